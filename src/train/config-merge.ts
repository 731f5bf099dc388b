/**
 * Plumbing for layered configuration: deep merge of plain objects, dotted-path overrides
 * (`algorithm.pgpo.tau=0.3`, the value parsed as a YAML scalar so numbers, booleans, null and
 * `[a, b]` lists work), and locating a key's line in a YAML file for error messages.
 */
import { isMap, isScalar, parseDocument, type Document } from 'yaml';

export type Plain = { [key: string]: unknown };

export function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Names that reach an object's prototype when assigned: never a config key. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function checkKey(key: string, where: string): void {
  if (FORBIDDEN_KEYS.has(key)) throw new ConfigError(`${where}: "${key}" cannot be a config key`);
}

/** b over a, recursively for plain objects; arrays and scalars are replaced. Inputs untouched. */
export function deepMerge(a: Plain, b: Plain): Plain {
  const out: Plain = { ...a };
  for (const [k, v] of Object.entries(b)) {
    checkKey(k, 'config');
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Plain, v) : v;
  }
  return out;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses an override value the way YAML would read it after `key: `. */
export function parseOverrideValue(raw: string): unknown {
  const doc = parseDocument(raw);
  if (doc.errors.length) return raw;
  return doc.toJS();
}

/** Sets `path` (dotted) in a copy of `target`, creating objects along the way. */
export function setPath(target: Plain, path: string, value: unknown): Plain {
  const keys = path.split('.');
  if (keys.some((k) => k === '')) throw new ConfigError(`bad override key "${path}"`);
  for (const k of keys) checkKey(k, `override "${path}"`);
  const out = deepMerge({}, target);
  let node: Plain = out;
  for (const k of keys.slice(0, -1)) {
    if (!isPlainObject(node[k])) node[k] = {};
    node = node[k] as Plain;
  }
  node[keys[keys.length - 1]] = value;
  return out;
}

export function getPath(target: unknown, path: readonly PropertyKey[]): unknown {
  let node = target;
  for (const k of path) {
    if (!isPlainObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[k];
  }
  return node;
}

export interface LoadedYaml {
  readonly value: Plain;
  /** 1-based line of a dotted key in the file, if present. */
  readonly lineOf: (path: readonly PropertyKey[]) => number | undefined;
}

export function loadYaml(text: string, file: string): LoadedYaml {
  const doc: Document = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: invalid YAML (${e.message.split('\n')[0]})`);
  }
  const value = doc.toJS() ?? {};
  if (!isPlainObject(value)) throw new ConfigError(`${file}: the top level must be a mapping of keys (data, algorithm, worker, trainer)`);
  const lineCounter = text.split('\n');
  const offsets: number[] = [];
  let acc = 0;
  for (const l of lineCounter) {
    offsets.push(acc);
    acc += l.length + 1;
  }
  const lineAt = (offset: number) => {
    let lo = 0;
    let hi = offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    let node: unknown = doc.contents;
    let line: number | undefined;
    for (const k of path) {
      if (!isMap(node)) return line;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(k));
      if (!pair) return line;
      const range = (pair.key as { range?: [number, number, number] }).range;
      if (range) line = lineAt(range[0]);
      node = pair.value;
    }
    return line;
  };
  const forbidden = forbiddenKeyPath(value);
  if (forbidden) throw new ConfigError(`${file}${lineOf(forbidden) ? `:${lineOf(forbidden)}` : ''}: "${forbidden.at(-1)}" cannot be a config key`);
  return { value, lineOf };
}

/** The path of the first key that would reach a prototype (`__proto__`, `constructor`, `prototype`), or null. */
function forbiddenKeyPath(v: unknown, path: string[] = []): string[] | null {
  if (!isPlainObject(v)) return null;
  for (const [k, x] of Object.entries(v)) {
    if (FORBIDDEN_KEYS.has(k)) return [...path, k];
    const inner = forbiddenKeyPath(x, [...path, k]);
    if (inner) return inner;
  }
  return null;
}
