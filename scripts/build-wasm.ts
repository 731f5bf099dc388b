/**
 * `npm run build:wasm`: compiles the native engine's SIMD kernels (src/model/native/simd/kernels.wat)
 * with wabt's wat2wasm into kernels.wasm and kernels.shared.wasm beside it (compile.ts), which are
 * committed so that a run needs no compiler. test/model/simd.test.ts rebuilds them and fails if
 * either is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileKernels } from '../src/model/native/simd/compile.ts';

const dir = new URL('../src/model/native/simd/', import.meta.url).pathname;
const { own, shared } = await compileKernels(readFileSync(join(dir, 'kernels.wat'), 'utf8'));
writeFileSync(join(dir, 'kernels.wasm'), own);
writeFileSync(join(dir, 'kernels.shared.wasm'), shared);
console.log(`kernels.wat -> kernels.wasm (${own.length} bytes), kernels.shared.wasm (${shared.length} bytes)`);
