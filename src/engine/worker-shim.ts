/**
 * A browser-style global `Worker` for Node, so that jax-js's wasm backend runs its kernels on
 * every core. jax-js builds its backend when its module is first evaluated and only then looks
 * for `Worker`, so this module must be imported BEFORE `@jax-js/jax` (`src/engine/jax.ts` does
 * that; import jax-js only through it).
 *
 * Why the first worker runs on the main thread: jax-js splits each kernel into one chunk per
 * worker and waits for all of them, so the main thread only waits. A message round trip to a
 * thread costs ~50-100 us, which dominates the many small kernels of a decode step. Running
 * chunk 0 in-process (after the other chunks were posted) keeps every core busy and makes
 * kernels too small to split (jax-js gives them to worker 0 alone) free of thread hops.
 */

import { availableParallelism } from 'node:os';
import { resolveObjectURL } from 'node:buffer';
import { Worker as NodeWorker } from 'node:worker_threads';

/** How many kernel workers jax-js starts: `PGPO_THREADS` if set, else one per core. */
export function engineThreads(): number {
  const env = Number(process.env.PGPO_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

interface MessageEventLike {
  data: unknown;
}

type Handler = ((e: MessageEventLike) => void) | null;

// The wasm backend's linear memory, seen in the `init` message jax-js posts to each worker. Kept
// only to report its size (engineHeapBytes): the heap grows and never shrinks, up to 4 GiB.
interface LinearMemory {
  readonly buffer: { readonly byteLength: number };
}
let heap: LinearMemory | null = null;
const WasmMemory = (globalThis as { WebAssembly?: { Memory: abstract new (...args: never[]) => unknown } }).WebAssembly?.Memory;
function observe(m: unknown): void {
  const mem = typeof m === 'object' && m !== null ? (m as { memory?: unknown }).memory : undefined;
  if (heap === null && WasmMemory !== undefined && mem instanceof WasmMemory) heap = mem as LinearMemory;
}

/** Bytes of wasm linear memory the engine holds now (0 before it starts). */
export function engineHeapBytes(): number {
  return heap?.buffer.byteLength ?? 0;
}

/** Reads a blob: URL's text synchronously is impossible; jax-js's source is fetched once, async. */
function blobSource(url: string | URL): Promise<string> {
  const href = String(url);
  const blob = href.startsWith('blob:') ? resolveObjectURL(href) : undefined;
  if (!blob) throw new Error(`worker-shim: only blob: URLs are supported, got ${href}`);
  return blob.text();
}

// The worker source expects the browser's `self.onmessage` and `postMessage`; in a thread this
// prelude maps them onto `parentPort`. Events are `{ data }` objects, as in the browser.
const THREAD_PRELUDE = `
const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
parentPort.on('message', (data) => { if (typeof self.onmessage === 'function') self.onmessage({ data }); });
`;

/**
 * A worker on its own thread. Messages posted before the source is loaded are queued.
 *
 * The thread keeps the process alive only while it owes a reply: jax-js answers every message it
 * posts (init -> ready, kernel/routine -> done) exactly once, so we ref the worker on the first
 * outstanding message and unref it on the last reply. An always-ref'd worker hangs every script
 * and test at exit; an always-unref'd one lets Node exit (code 13) in the middle of an `await`.
 */
class ThreadWorker {
  onmessage: Handler = null;
  onerror: ((e: { message: string }) => void) | null = null;
  private worker: NodeWorker | null = null;
  private readonly pending: unknown[] = [];
  private owed = 0;

  constructor(url: string | URL) {
    void blobSource(url).then((src) => {
      const w = new NodeWorker(THREAD_PRELUDE + src, { eval: true });
      w.on('message', (data) => {
        if (--this.owed === 0) w.unref();
        this.onmessage?.({ data });
      });
      w.on('error', (err) => this.onerror?.({ message: String(err?.message ?? err) }));
      // After the listeners: adding a 'message' listener re-refs the worker.
      if (this.owed === 0) w.unref();
      this.worker = w;
      for (const m of this.pending) w.postMessage(m);
      this.pending.length = 0;
    });
  }

  postMessage(m: unknown): void {
    observe(m);
    if (this.owed++ === 0) this.worker?.ref();
    if (this.worker) this.worker.postMessage(m);
    else this.pending.push(m);
  }

  terminate(): void {
    void this.worker?.terminate();
  }
}

/**
 * A worker that runs jax-js's worker source on the main thread. Work is deferred to a microtask
 * so that the caller finishes posting the other chunks to the threads first; replies are
 * delivered asynchronously, as a browser would.
 */
class InlineWorker {
  onmessage: Handler = null;
  onerror: ((e: { message: string }) => void) | null = null;
  private scope: { onmessage: Handler } | null = null;
  private readonly pending: unknown[] = [];

  constructor(url: string | URL) {
    void blobSource(url).then((src) => {
      const scope: { onmessage: Handler } = { onmessage: null };
      const reply = (data: unknown) => queueMicrotask(() => this.onmessage?.({ data }));
      // The source declares its own top-level bindings; a Function body keeps them private.
      new Function('self', 'postMessage', src)(scope, reply);
      this.scope = scope;
      for (const m of this.pending) this.deliver(m);
      this.pending.length = 0;
    });
  }

  private deliver(m: unknown): void {
    queueMicrotask(() => this.scope?.onmessage?.({ data: m }));
  }

  postMessage(m: unknown): void {
    observe(m);
    if (this.scope) this.deliver(m);
    else this.pending.push(m);
  }

  terminate(): void {
    this.scope = null;
  }
}

const inline = process.env.PGPO_INLINE_WORKER !== '0';
let created = 0;

/** The global `Worker`: the first one jax-js creates runs inline, the rest on threads. */
class ShimWorker {
  constructor(url: string | URL, _opts?: unknown) {
    const w = inline && created === 0 ? new InlineWorker(url) : new ThreadWorker(url);
    created++;
    return w as unknown as ShimWorker;
  }
}

const g = globalThis as Record<string, unknown>;
if (typeof g.Worker === 'undefined') g.Worker = ShimWorker;
// jax-js sizes its pool from navigator.hardwareConcurrency and reads navigator.userAgent while
// generating some kernels; Node 20 has no navigator at all.
if (typeof g.navigator === 'undefined') {
  g.navigator = { hardwareConcurrency: engineThreads(), userAgent: `Node.js/${process.version}` };
}
