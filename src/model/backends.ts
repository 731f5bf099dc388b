/**
 * The two implementations of the trainer's `Policy`, by name (`worker.actor.backend`):
 *   native  hand-written forward/backward on CBLAS sgemm (src/model/native), the default;
 *   jax     the jax-js (wasm) policy (src/model/policy.ts).
 * Both read and write the same checkpoints and start from the same initial weights. Where no
 * CBLAS library can be loaded, `native` falls back to `jax` with a one-line warning naming the
 * package to install. Where pgpo chose OpenBLAS's kernels (blas.ts: the library did not know the
 * CPU), a one-line note says which, once per process: they decide the last bit of every product.
 */

import type { PolicyFactory } from '../core/policy.ts';
import { type Backend, BACKENDS } from './config.ts';
import { blasFailure, tryBlas } from './native/blas.ts';
import { nativeFactory } from './native/policy.ts';
import { policyFactory as jaxFactory } from './policy.ts';

export { BACKENDS, type Backend };

let noted = false;

export function policyFactoryFor(backend: Backend, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): PolicyFactory {
  if (backend === 'jax') return jaxFactory;
  const b = tryBlas();
  if (b) {
    if (b.kernelNote && !noted) warn(`note: ${b.kernelNote}`);
    noted = true;
    return nativeFactory;
  }
  warn(`warning: worker.actor.backend=native needs CBLAS (${blasFailure()}); using the jax backend (slower)`);
  return jaxFactory;
}
