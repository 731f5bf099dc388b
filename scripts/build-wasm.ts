/**
 * `npm run build:wasm`: compiles the native engine's SIMD kernels (src/model/native/simd/*.wat)
 * with wabt's wat2wasm into the .wasm files beside them, which are committed so that a run needs
 * no compiler. test/model/simd.test.ts rebuilds them and fails if a .wasm is stale.
 */
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileWat } from '../src/model/native/simd/compile.ts';

const dir = new URL('../src/model/native/simd/', import.meta.url).pathname;
for (const f of readdirSync(dir).filter((f) => f.endsWith('.wat'))) {
  const bytes = await compileWat(f, readFileSync(join(dir, f), 'utf8'));
  writeFileSync(join(dir, f.replace(/\.wat$/, '.wasm')), bytes);
  console.log(`${f} -> ${f.replace(/\.wat$/, '.wasm')} (${bytes.length} bytes)`);
}
