/**
 * Helper threads for the native engine's attention and GELU, and a decode step's rows (decode.ts:
 * each thread runs every layer on its share there). The weight products run on BLAS's
 * own threads, but attention is thousands of small per-(group, head) products and softmaxes that
 * BLAS runs on one thread, and GELU is a loop: the other cores would sit idle for about a third
 * of a train step. Attention's groups are independent (each reads and writes only its own rows),
 * and GELU is elementwise, so they are split between this thread and the helpers, one contiguous
 * share each, balanced by cost; each share is computed exactly as on one thread, so results do
 * not depend on the split.
 *
 * The buffers a share touches are the arena's, allocated on SharedArrayBuffers (model.ts
 * `Arena`), so a task message carries views, not copies. The caller posts the tasks, does its own
 * share, then polls (briefly) and blocks on an Atomics flag per helper until it is done (the
 * engine's passes are synchronous). During a parallel section BLAS runs on one thread in every thread (blas.ts
 * `singleThreaded`): its own thread pool is not shared.
 *
 * HelperThreads: PGPO_THREADS (else the cores) minus one, none on one core or with
 * PGPO_HELPERS=0 (`sharedHelpers`). Workers run a bundle of plain JavaScript (`helperSource`),
 * are unref'd, so they never keep the process alive, and are stopped after 10 s without a
 * parallel section (started again when needed).
 */

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { blasThreads, singleThreaded } from './blas.ts';

interface Helper {
  readonly worker: Worker;
  readonly port: MessagePort;
  /** [0]: 0 while a task runs, 1 when done, 2 when it failed; [1]: 0 while it starts, 1 if it could not (the error is on `port`), 2 once ready. */
  readonly flag: Int32Array;
}

export class HelperThreads {
  private readonly n: number;
  private readonly idleMs: number;
  private helpers: Helper[] = [];
  private disposed = false;
  private lastUse = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  /** idleMs: how long the workers may go without a parallel section before they are stopped (started again when next needed). */
  constructor(n: number, idleMs = IDLE_MS) {
    this.n = n;
    this.idleMs = idleMs;
  }

  /** Parallel sections that ran on the helpers (not all on this thread), by the op of their tasks (helper-tasks.ts): benches and tests. */
  readonly sectionsByOp = new Map<string, number>();

  /** All of them. */
  get sharedSections(): number {
    let n = 0;
    for (const k of this.sectionsByOp.values()) n += k;
    return n;
  }
  /** Times the workers were stopped for being idle (tests). */
  idleStops = 0;

  /** Starts the helpers and resolves once they are ready (false if they could not start in time). */
  async whenReady(timeoutMs = 60_000): Promise<boolean> {
    const helpers = this.started();
    this.touch();
    for (const since = Date.now(); Date.now() - since < timeoutMs;) {
      if (this.disposed || helpers.length === 0 || helpers.some((h) => Atomics.load(h.flag, 1) === 1)) return false;
      if (helpers.every((h) => Atomics.load(h.flag, 1) === 2)) return true;
      await new Promise((r) => setTimeout(r, 10));
    }
    return false;
  }

  /** Threads that share a parallel section: the caller and its helpers. */
  get parts(): number {
    return this.n + 1;
  }

  /**
   * The workers, started on first use (each loads the bundled engine modules: tens of ms, once);
   * none, and disposed, if the bundle could not be made (said once on stderr).
   */
  private started(): Helper[] {
    if (this.helpers.length > 0 || this.disposed) return this.helpers;
    const started: Helper[] = [];
    try {
      const source = helperSource();
      for (let i = 0; i < this.n; i++) {
        const { port1, port2 } = new MessageChannel();
        const flag = new Int32Array(new SharedArrayBuffer(8));
        // no execArgv: the process's flags (--import tsx, --input-type) are not the worker's; it
        // runs plain JavaScript and needs none
        const worker = new Worker(source, { workerData: { port: port2, flag }, transferList: [port2], execArgv: [] });
        worker.on('error', (err) => {
          // a failure outside the worker's own try (it could not even load its entry)
          noteStartError(port1, err);
          Atomics.store(flag, 1, 1);
        });
        worker.unref();
        port1.unref();
        started.push({ worker, port: port1, flag });
      }
    } catch (err) {
      // no bundle, or a worker that could not even be created: say why once, go on without
      process.stderr.write(`pgpo: native helper threads unavailable, all work on one thread (${err instanceof Error ? err.message : String(err)})\n`);
      for (const h of started) void h.worker.terminate();
      this.dispose();
      return this.helpers;
    }
    this.helpers = started;
    return this.helpers;
  }

  /**
   * A parallel section over items with these costs: contiguous shares balanced by cost
   * (`splitByCost`), share(i0, i1, p) describing the items [i0, i1) of thread p: p = 0 runs here
   * (its `here`), p >= 1 on helper p - 1 (its message). Shares end at multiples of `step` (or at
   * the last item).
   */
  runShares(costs: readonly number[], share: (i0: number, i1: number, p: number) => HelperTask, step = 1): void {
    this.runSharesAt(splitByCost(costs, this.parts, step), share);
  }

  /**
   * The same with the shares' ends given (one per part, the last the item count). pollMs, for
   * sections that come every few milliseconds (decode steps): how long this thread polls a
   * helper's flag before it sleeps on it, and a helper its port for the next task after this one
   * (helper-worker.ts): a thread asleep is slow to wake on a VM.
   */
  runSharesAt(ends: readonly number[], share: (i0: number, i1: number, p: number) => HelperTask, pollMs = 0): void {
    if (ends.length !== this.parts) throw new Error(`${ends.length} shares for ${this.parts} threads`);
    this.run(
      ends.slice(1).map((i1, i) => share(ends[i], i1, i + 1)),
      share(0, ends[0], 0).here,
      pollMs,
    );
  }

  /**
   * Runs tasks[i] on helper i and `own` on this thread at the same time; returns when every one
   * is done, rethrowing a helper's error. Until the helpers have started (and after dispose),
   * runs them all here.
   */
  private run(tasks: readonly HelperTask[], own: () => void, pollMs: number): void {
    if (tasks.length > this.n) throw new Error(`${tasks.length} tasks for ${this.n} helpers`);
    const helpers = this.started();
    this.touch();
    const failed = helpers.find((h) => Atomics.load(h.flag, 1) === 1);
    if (failed) {
      // an optimisation that could not start is not worth a run: say why once, go on without
      process.stderr.write(
        `pgpo: native helper thread unavailable, all work on one thread (${(receiveMessageOnPort(failed.port)?.message as string | undefined) ?? startErrors.get(failed.port) ?? 'could not start'})\n`,
      );
      this.dispose();
    }
    if (this.disposed || helpers.length === 0 || !helpers.every((h) => Atomics.load(h.flag, 1) === 2)) {
      // still starting (they load in the background: waiting here could wait on this very thread,
      // which some module loaders need), or gone: every share on this thread, the same bits
      own();
      for (const t of tasks) t.here();
      return;
    }
    singleThreaded();
    const op = tasks[0]?.message.op ?? 'none';
    this.sectionsByOp.set(op, (this.sectionsByOp.get(op) ?? 0) + 1);
    tasks.forEach((task, i) => {
      const h = helpers[i];
      Atomics.store(h.flag, 0, 0);
      h.worker.postMessage({ task: task.message, pollMs } satisfies HelperPost);
    });
    let failure: unknown = null;
    try {
      own();
    } catch (err) {
      failure = err;
    }
    tasks.forEach((_, i) => {
      const h = helpers[i];
      const since = Date.now();
      for (const until = performance.now() + pollMs; Atomics.load(h.flag, 0) === 0 && performance.now() < until;);
      // a task takes milliseconds (a layer's attention, a decode step's share); the timeout only
      // guards against a thread that died
      while (Atomics.load(h.flag, 0) === 0) {
        if (Date.now() - since > TASK_TIMEOUT_MS) {
          failure ??= new Error(`native helper thread: no answer within ${TASK_TIMEOUT_MS / 1000} s`);
          this.dispose();
          return;
        }
        Atomics.wait(h.flag, 0, 0, 1000);
      }
      if (Atomics.load(h.flag, 0) !== 1) {
        const msg = receiveMessageOnPort(h.port)?.message as string | undefined;
        failure ??= new Error(`native helper thread: ${msg ?? 'unknown error'}`);
      }
    });
    if (failure) throw failure;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const h of this.helpers) void h.worker.terminate();
  }

  /**
   * Notes a use, and arms the idle check: workers unused for idleMs are stopped. They are unref'd
   * and should never keep a finished process alive, but one test process that had used them once
   * did not exit (model.md#threads, cause unknown); stopping idle workers (from an unref'd timer,
   * which fires while anything else keeps the process up) bounds any such wait to idleMs.
   */
  private touch(): void {
    this.lastUse = Date.now();
    if (this.idleTimer === null && this.helpers.length > 0) this.armIdle(this.idleMs);
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.disposed || this.helpers.length === 0) return;
      const left = this.lastUse + this.idleMs - Date.now();
      if (left > 0) return this.armIdle(left);
      // still starting (loading the engine's modules): not idle yet
      if (this.helpers.some((h) => Atomics.load(h.flag, 1) === 0)) return this.armIdle(this.idleMs);
      for (const h of this.helpers) {
        h.port.close();
        void h.worker.terminate();
      }
      this.helpers = [];
      this.idleStops++;
    }, ms);
    this.idleTimer.unref();
  }
}

const TASK_TIMEOUT_MS = 120_000;
/** Idle helpers stop after this long (a trainer's steps use them every few seconds). */
const IDLE_MS = 10_000;

/**
 * The helper's code: helper-worker.ts and the engine modules it imports, bundled into one plain
 * JavaScript module by esbuild (once per process, ~0.1 s) and started from a data: URL. A worker
 * then needs no TypeScript loader: registering one in each worker (as it did until 2026-12-07)
 * gave every worker a module-hooks thread of its own, a part of Node that has had exit and
 * shutdown deadlocks, and the prime suspect for a test process that once did not exit
 * (docs/model.md, "Threads"). Two bundled modules resolve files from import.meta.url: simd.ts
 * (kernels.wasm beside it) and blas.ts (koffi, from the project's node_modules); both resolve
 * from simd.ts's own URL, which the bundle is given as its import.meta.url.
 */
let bundled: URL | Error | undefined;
function helperSource(): URL {
  if (bundled === undefined) {
    try {
      const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
      const out = esbuild.buildSync({
        entryPoints: [fileURLToPath(new URL('./helper-worker.ts', import.meta.url))],
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        write: false,
        logLevel: 'silent',
        define: { 'import.meta.url': JSON.stringify(new URL('./simd/simd.ts', import.meta.url).href) },
      });
      // named, so that a helper's stack traces say pgpo-helper.js instead of repeating the whole data: URL
      bundled = new URL(`data:text/javascript,${encodeURIComponent(`${out.outputFiles[0].text}\n//# sourceURL=pgpo-helper.js\n`)}`);
      // buildSync ran on a worker thread of esbuild's and its child process: end both now
      void esbuild.stop();
    } catch (err) {
      bundled = new Error(`could not bundle the helper's modules: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (bundled instanceof Error) throw bundled;
  return bundled;
}

/** Keeps a worker's startup error where run() reads it (the failure message of its port). */
const startErrors = new WeakMap<MessagePort, string>();
function noteStartError(port: MessagePort, err: Error): void {
  startErrors.set(port, err.message);
}

/** What a helper is posted (helper-worker.ts): a task (helper-tasks.ts), and how long to poll for the next one after it. */
export interface HelperPost {
  readonly task: HelperTask['message'];
  readonly pollMs: number;
}

/**
 * One share of a parallel section: the message a helper runs (helper-tasks.ts `runTask`: plain
 * data, typed arrays on SharedArrayBuffers), and the same work as a call on this thread.
 */
export interface HelperTask {
  readonly message: { readonly op: string };
  readonly here: () => void;
}

let shared: HelperThreads | null | undefined;

/**
 * The process's helpers: PGPO_THREADS (else the cores) minus one, or null on one thread or with
 * PGPO_HELPERS=0. One set for every policy: parallel sections are synchronous, so two never overlap.
 */
export function sharedHelpers(): HelperThreads | null {
  if (shared === undefined) {
    const threads = blasThreads();
    shared = threads > 1 && process.env.PGPO_HELPERS !== '0' ? new HelperThreads(threads - 1) : null;
  }
  return shared;
}

/**
 * Contiguous shares of items with these costs, one per part, balanced by cost: the index where
 * each share ends (the last is costs.length), each a multiple of step or costs.length. A share may
 * be empty.
 */
export function splitByCost(costs: readonly number[], parts: number, step = 1): number[] {
  if (step > 1) {
    const blocks = Array.from({ length: Math.ceil(costs.length / step) }, (_, b) => costs.slice(b * step, (b + 1) * step).reduce((a, c) => a + c, 0));
    return splitByCost(blocks, parts).map((e) => Math.min(e * step, costs.length));
  }
  const total = costs.reduce((a, c) => a + c, 0);
  const ends: number[] = [];
  let acc = 0;
  let i = 0;
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    while (i < costs.length && acc + costs[i] / 2 <= target) acc += costs[i++];
    ends.push(i);
  }
  ends.push(costs.length);
  return ends;
}
