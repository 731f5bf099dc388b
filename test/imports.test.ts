/**
 * The import graph of src/: no cycles between files (type-only, re-exports and dynamic imports
 * count), none between folders, and src/core (the contracts) imports nothing of the project.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../src');

/** Folder edges that close a cycle and are known (none may be added). */
const KNOWN_FOLDER_EDGES = new Set([
  // src/engine/safetensors.ts writes through src/data/atomic-write.ts, and data -> tasks -> engine (rng)
  'engine -> data',
]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/**
 * The relative specifiers of a module: `import ... from`, `export ... from`, `import '...'` and
 * `import('...')`, comments removed first (the installed TypeScript has no JS parser API).
 */
export function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const re = /(?:\b(?:import|export)\b[^'"`;]*?\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
  return [...code.matchAll(re)].map((m) => m[2]);
}

/** File -> the project files it imports. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    g.set(
      relative(SRC, file),
      specifiers(readFileSync(file, 'utf8')).map((s) => relative(SRC, resolve(dirname(file), s))),
    );
  }
  return g;
}

/** One cycle of the graph as a path a -> ... -> a, or null. */
function findCycle(g: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (v: string): string[] | null => {
    state.set(v, 'open');
    path.push(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (state.get(w) === 'open') return [...path.slice(path.indexOf(w)), w];
      if (!state.has(w)) {
        const c = visit(w);
        if (c) return c;
      }
    }
    path.pop();
    state.set(v, 'done');
    return null;
  };
  for (const v of g.keys()) {
    if (state.has(v)) continue;
    const c = visit(v);
    if (c) return c;
  }
  return null;
}

const folderOf = (file: string) => (file.includes('/') ? file.split('/')[0] : '.');

test('the specifier parser sees static, type-only, multi-line, re-export, side-effect and dynamic imports, not comments', () => {
  const text = [
    "import { a } from './a.ts';",
    "import type {\n  B,\n  C,\n} from '../b.ts';",
    "export * from './c.ts';",
    "import './d.ts';",
    "const m = await import('./e.ts');",
    "// import { x } from './not.ts';",
    "/* import { y } from './not2.ts'; */",
    "import { readFileSync } from 'node:fs';",
  ].join('\n');
  assert.deepEqual(specifiers(text), ['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts']);
});

test('every import resolves to a file of src/', () => {
  const g = graph();
  for (const [file, deps] of g) for (const d of deps) assert.ok(g.has(d), `${file} imports ${d}, which is not a .ts file of src/`);
});

test('no import cycle between files of src/', () => {
  const cycle = findCycle(graph());
  assert.equal(cycle, null, `import cycle: ${cycle?.join(' -> ')}`);
});

test('no import cycle between folders of src/ (but the known edges)', () => {
  const folders = new Map<string, Set<string>>();
  for (const [file, deps] of graph()) {
    const a = folderOf(file);
    for (const d of deps) {
      const b = folderOf(d);
      if (a !== b && !KNOWN_FOLDER_EDGES.has(`${a} -> ${b}`)) folders.set(a, (folders.get(a) ?? new Set()).add(b));
    }
    if (!folders.has(a)) folders.set(a, new Set());
  }
  const cycle = findCycle(new Map([...folders].map(([k, v]) => [k, [...v]])));
  assert.equal(cycle, null, `folder cycle: ${cycle?.join(' -> ')}`);
});

test('src/core imports nothing of the project but itself', () => {
  const g = graph();
  const core = [...g].filter(([f]) => folderOf(f) === 'core');
  assert.ok(core.length >= 3);
  for (const [file, deps] of core) for (const d of deps) assert.equal(folderOf(d), 'core', `${file} imports ${d}`);
});
