/**
 * The one door to jax-js: installs the Node worker shim first (so kernels use every core), then
 * re-exports jax-js and offers `initEngine()`. Everything else in pgpo imports jax-js from here,
 * so a faster backend could replace it later behind the same names.
 */

import { readFileSync } from 'node:fs';
import './worker-shim.ts';
import { engineThreads } from './worker-shim.ts';
import { init, defaultDevice, numpy as np } from '@jax-js/jax';

export { engineHeapBytes, engineThreads } from './worker-shim.ts';
export * from '@jax-js/jax';

/** What computes on this engine, for run records and benchmark headers (Policy.engine): the installed jax-js version (read, so that an upgrade shows in a run's record) and its threads. */
export function engineSummary(): string {
  // the package exports no package.json; it sits one folder above the entry point
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('@jax-js/jax')), 'utf8')) as { version: string };
  return `jax-js ${pkg.version} wasm (${engineThreads()} threads)`;
}

let ready: Promise<void> | null = null;

/**
 * Starts the wasm backend once per process (idempotent). A bare `init()` would also try WebGPU
 * and WebGL, which crash in Node on the missing `navigator.gpu` and DOM.
 */
export function initEngine(): Promise<void> {
  ready ??= (async () => {
    const got = await init('wasm');
    if (!got.includes('wasm')) throw new Error('jax-js: the wasm backend did not start');
    defaultDevice('wasm');
  })();
  return ready;
}

/** Float32 host copy of an array (consumes it). Async, so kernels run on the worker pool. */
export async function toF32(x: np.Array): Promise<Float32Array> {
  const d = await x.data();
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}

/** A float32 device array from host data. */
export function f32(data: Float32Array | number[], shape: number[]): np.Array {
  const buf = data instanceof Float32Array ? data : Float32Array.from(data);
  return np.array(buf).reshape(shape);
}

/** An int32 device array from host data. */
export function i32(data: Int32Array | number[], shape: number[]): np.Array {
  const buf = data instanceof Int32Array ? data : Int32Array.from(data);
  return np.array(buf, { dtype: np.int32 }).reshape(shape);
}
