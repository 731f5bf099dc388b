/**
 * Generated task instances as dataset rows: EasyR1's three columns plus pgpo's own (id,
 * family, variant, kind, difficulty, split, solution), so a generated file is both a valid
 * EasyR1 dataset and a complete record of what was generated. `problem_key` names the problem
 * behind an instance (family, kind and values, without the variant's wording): the unit the
 * train/test split is drawn by, so distinct keys count distinct problems.
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
      problem_key: inst.problemKey,
      family: inst.family,
      variant: inst.variant,
      kind: inst.kind,
      difficulty: inst.difficulty,
      split: inst.split,
      solution: inst.solution,
      // ladder world only (absent from classic rows, which stay as they were)
      // (every ladder row has both columns: '' where the kind has no prior)
      ...(inst.rung !== undefined ? { rung: inst.rung, prior_answer: inst.priorAnswer ?? '' } : {}),
    },
  };
}
