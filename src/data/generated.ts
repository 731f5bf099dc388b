/**
 * Generated task instances as dataset rows: EasyR1's three columns plus pgpo's own (id,
 * family, variant, kind, difficulty, split, solution), so a generated file is both a valid
 * EasyR1 dataset and a complete record of what was generated.
 */
import type { TaskInstance } from '../tasks/types.ts';
import type { WritableRow } from './write-dataset.ts';

export function instanceRow(inst: TaskInstance): WritableRow {
  return {
    problem: inst.problem,
    answer: inst.answer,
    images: [inst.image],
    name: inst.id,
    extra: {
      id: inst.id,
      family: inst.family,
      variant: inst.variant,
      kind: inst.kind,
      difficulty: inst.difficulty,
      split: inst.split,
      solution: inst.solution,
    },
  };
}
