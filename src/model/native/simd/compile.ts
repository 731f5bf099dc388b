/** WAT text to a WebAssembly binary with wabt (a dev dependency: used by the build and its test, never at run time). */
export async function compileWat(name: string, text: string): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const features = { simd: true, threads: true };
  const mod = wabt.parseWat(name, text, features);
  try {
    // validate takes the features too (shared memories are "threads"); wabt's typings omit the argument
    (mod as unknown as { validate(f: object): void }).validate(features);
    return new Uint8Array(mod.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}

const OWN_MEMORY = '(memory (export "memory") 1)';
const SHARED_MEMORY = '(import "env" "memory" (memory 1 65536 shared))';

/**
 * kernels.wat's two builds: kernels.wasm, whose instances each have a memory of their own, and
 * kernels.shared.wasm, the same code on a shared memory the instance imports (up to 4 GiB), so
 * that helper threads can run the decode's attention on the KV cache the caller's instance holds.
 */
export async function compileKernels(text: string): Promise<{ own: Uint8Array; shared: Uint8Array }> {
  if (!text.includes(OWN_MEMORY)) throw new Error(`kernels.wat: expected its memory declared as ${OWN_MEMORY}`);
  return { own: await compileWat('kernels.wat', text), shared: await compileWat('kernels.shared.wat', text.replace(OWN_MEMORY, SHARED_MEMORY)) };
}
