/**
 * The two implementations of the trainer's `Policy`, by name (`worker.actor.backend`):
 *   native  hand-written forward/backward on CBLAS sgemm (src/model/native), the default;
 *   jax     the jax-js (wasm) policy (src/model/policy.ts).
 * Both read and write the same checkpoints and start from the same initial weights. Where no
 * CBLAS library can be loaded, `native` falls back to `jax` with a one-line warning naming the
 * package to install.
 */

import type { PolicyFactory } from '../core/policy.ts';
import { type Backend, BACKENDS } from './config.ts';
import { blasFailure, tryBlas } from './native/blas.ts';
import { nativeFactory } from './native/policy.ts';
import { policyFactory as jaxFactory } from './policy.ts';

export { BACKENDS, type Backend };

export function policyFactoryFor(backend: Backend, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): PolicyFactory {
  if (backend === 'jax') return jaxFactory;
  if (tryBlas()) return nativeFactory;
  warn(`warning: worker.actor.backend=native needs CBLAS (${blasFailure()}); using the jax backend (slower)`);
  return jaxFactory;
}
