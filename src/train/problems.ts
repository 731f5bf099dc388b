/**
 * The order in which a run visits its problems (src/core/problem.ts)
 * is a pure function of (seed, cursor): epoch e is a seeded permutation, so a resumed run picks
 * up exactly where the checkpoint's cursor says.
 */
import { Rng } from '../engine/rng.ts';
import type { Problem } from '../core/problem.ts';

export class ProblemStream {
  private epoch = -1;
  private order: number[] = [];

  constructor(
    readonly problems: readonly Problem[],
    private readonly seed: number | string,
  ) {
    if (problems.length === 0) throw new Error('the training set is empty');
  }

  /** The problem visited at global position `cursor` (0, 1, 2, ... across epochs). */
  at(cursor: number): Problem {
    const n = this.problems.length;
    const e = Math.floor(cursor / n);
    if (e !== this.epoch) {
      this.order = Rng.seeded(this.seed).fork(`epoch:${e}`).permutation(n);
      this.epoch = e;
    }
    return this.problems[this.order[cursor % n]];
  }
}
