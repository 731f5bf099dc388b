/**
 * What both policy backends check and decide the same way, on host data: the attention mode, the
 * temperature, the shape of the cotangents `backward` receives, and each parameter's learning
 * rate for `step` (frozen prefixes and `lrFor` resolved against the parameter names).
 */
import type { AttentionMode, OptimStep, ScoreItem } from '../core/policy.ts';
import { isUnder, namesUnder } from '../engine/tree.ts';

export function checkMode(mode: AttentionMode): AttentionMode {
  if (mode !== 'image' && mode !== 'text-only') throw new Error(`unknown attention mode '${mode}' (image | text-only)`);
  return mode;
}

/** The temperature logits are divided by (default 1), or an error. */
export function checkTemperature(temperature: number | undefined): number {
  const t = temperature ?? 1;
  if (!(t > 0 && Number.isFinite(t))) throw new Error(`temperature must be a finite number > 0, got ${temperature}`);
  return t;
}

/** One row per item, one value per response token, for dLogp and (if given) dEntropy. */
export function checkCotangents(items: readonly ScoreItem[], dLogp: readonly Float32Array[], dEntropy?: readonly Float32Array[]): void {
  const check = (name: string, xs: readonly Float32Array[]) => {
    if (xs.length !== items.length) throw new Error(`backward: ${name} has ${xs.length} rows for ${items.length} items`);
    xs.forEach((x, i) => {
      if (x.length !== items[i].response.length) throw new Error(`backward: ${name}[${i}] has ${x.length} values for a ${items[i].response.length}-token response`);
    });
  };
  check('dLogp', dLogp);
  if (dEntropy) check('dEntropy', dEntropy);
}

/**
 * Each parameter's learning rate for one step: its own (`lrFor`, by path or prefix) or `lr`; 0
 * under `frozen`. A rate of 0 freezes: the caller zeroes that gradient before the norm (so it does
 * not set the clip) and the update leaves the weight exactly as it is. A prefix that names no
 * parameter is an error naming its key.
 */
export function leafRates(names: readonly string[], o: OptimStep): Map<string, number> {
  const own = Object.entries(o.lrFor ?? {});
  if (own.length)
    namesUnder(
      names,
      own.map(([p]) => p),
      'a learning rate of its own',
    );
  const frozen = o.frozen?.length ? namesUnder(names, o.frozen, 'experiment.freeze') : new Set<string>();
  return new Map(names.map((n) => [n, frozen.has(n) ? 0 : (own.find(([p]) => isUnder(n, p))?.[1] ?? o.lr)]));
}
