/**
 * Parameter trees: nested objects and arrays whose leaves are jax-js arrays. Leaves are named by
 * their dotted path ('decoder.layers.0.qkv.w'), which is how checkpoints store them. Helpers here
 * follow jax-js's ownership rule: functions consume the trees they are given unless they say
 * they "borrow" them.
 */

import { numpy as np, tree as jtree, toF32, f32 } from './jax.ts';

export type ParamTree = np.Array | ParamTree[] | { [key: string]: ParamTree };

/** (path, leaf) pairs in a stable order: object keys as inserted, arrays by index. Borrows. */
export function namedLeaves(t: ParamTree, prefix = ''): [string, np.Array][] {
  if (t instanceof np.Array) return [[prefix, t]];
  const out: [string, np.Array][] = [];
  const entries: [string, ParamTree][] = Array.isArray(t) ? t.map((v, i) => [String(i), v]) : Object.entries(t);
  for (const [k, v] of entries) out.push(...namedLeaves(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

/** Number of scalars in a tree. Borrows. */
export function paramCount(t: ParamTree): number {
  return namedLeaves(t).reduce((n, [, a]) => n + a.size, 0);
}

/**
 * Rebuilds a tree from (path, leaf) pairs; numeric path segments become array indices. Inverse
 * of `namedLeaves` for trees made of plain objects and dense arrays.
 */
export function fromNamed(entries: Iterable<[string, np.Array]>): ParamTree {
  const root: Record<string, unknown> = {};
  for (const [name, leaf] of entries) {
    const parts = name.split('.');
    let node: Record<string, unknown> = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts[i];
      node[key] ??= /^\d+$/.test(parts[i + 1]) ? [] : {};
      node = node[key] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = leaf;
  }
  return root as ParamTree;
}

/** Maps every leaf with its path. The function receives borrowed leaves. */
export function mapNamed(t: ParamTree, fn: (leaf: np.Array, name: string) => np.Array): ParamTree {
  return fromNamed(namedLeaves(t).map(([n, a]) => [n, fn(a, n)]));
}

/** a + b leaf by leaf; consumes both. The trees must have the same paths and shapes. */
export function addTrees(a: ParamTree, b: ParamTree): ParamTree {
  const la = namedLeaves(a);
  const lb = new Map(namedLeaves(b));
  if (la.length !== lb.size) throw new Error(`addTrees: trees have ${la.length} and ${lb.size} leaves`);
  return fromNamed(
    la.map(([n, x]) => {
      const y = lb.get(n);
      if (!y) throw new Error(`addTrees: second tree lacks '${n}'`);
      if (x.shape.join() !== y.shape.join()) throw new Error(`addTrees: '${n}' has shapes [${x.shape}] and [${y.shape}]`);
      return [n, x.add(y)];
    }),
  );
}

/** Zeros shaped like t (float32). Borrows t. */
export function zerosLike(t: ParamTree): ParamTree {
  return mapNamed(t, (x) => np.zeros(x.shape, { dtype: np.float32 }));
}

/** A copy of t that owns new references (jax-js `tree.ref`). */
export function refTree<T extends ParamTree>(t: T): T {
  return jtree.ref(t);
}

export function disposeTree(t: ParamTree | null | undefined): void {
  jtree.dispose(t);
}

/** Host copies of every leaf, by path. Borrows t. */
export async function treeToHost(t: ParamTree): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [n, a] of namedLeaves(t)) out.set(n, { shape: [...a.shape], data: await toF32(a.ref) });
  return out;
}

/** Device tree from host tensors by path. */
export function treeFromHost(host: Iterable<[string, { shape: readonly number[]; data: Float32Array }]>): ParamTree {
  return fromNamed([...host].map(([n, t]) => [n, f32(t.data, [...t.shape])]));
}

/** Whether leaf `name` lies under `prefix` (a whole path, or a path ending at a segment boundary). */
export function isUnder(name: string, prefix: string): boolean {
  return name === prefix || name.startsWith(`${prefix}.`);
}

/**
 * The names under any of `prefixes` (e.g. 'vision', 'decoder.layers.0'). Throws naming the first
 * prefix that matches no name, so a typo cannot silently freeze nothing.
 */
export function namesUnder(names: readonly string[], prefixes: readonly string[], what = 'prefix'): Set<string> {
  for (const p of prefixes) {
    if (!names.some((n) => isUnder(n, p))) {
      const tops = [...new Set(names.map((n) => n.split('.').slice(0, 2).join('.')))].join(', ');
      throw new Error(`${what}: "${p}" names no parameter (top-level groups: ${tops})`);
    }
  }
  return new Set(names.filter((n) => prefixes.some((p) => isUnder(n, p))));
}
