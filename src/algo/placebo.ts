/**
 * The no-signal control for RL with verifiable rewards ("placebo"): each group's rewards
 * shuffled among its own responses. Every group keeps its reward values, so its mean, its std
 * and whether it is all-equal (what DAPO's filter drops) are unchanged, and the advantages have
 * the sizes a real step's have — only their link to what each response did is cut. A run with it
 * measures what the update does to a policy without the reward's information (optimizer noise,
 * drift); the real run's gain over it is what the reward taught.
 */

/**
 * `values` (one per response) permuted within each group (`groups[i]` is response i's group),
 * uniformly (Fisher-Yates); `int(n)` draws a uniform integer in [0, n). Pure but for `int`.
 */
export function shuffleWithinGroups(values: readonly number[], groups: readonly number[], int: (n: number) => number): number[] {
  if (values.length !== groups.length) throw new RangeError(`shuffleWithinGroups: ${values.length} values but ${groups.length} group ids`);
  const members = new Map<number, number[]>();
  groups.forEach((g, i) => {
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  });
  const out = [...values];
  for (const idx of members.values()) {
    const vals = idx.map((i) => values[i]);
    for (let j = vals.length - 1; j > 0; j--) {
      const r = int(j + 1);
      [vals[j], vals[r]] = [vals[r], vals[j]];
    }
    idx.forEach((i, j) => (out[i] = vals[j]));
  }
  return out;
}
