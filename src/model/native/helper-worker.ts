/**
 * A helper thread's entry and loop (helper-threads.ts runs it bundled with the modules it imports,
 * as plain JavaScript): once loaded, say so (flag[1] = 2); then run each task and raise flag[0]
 * (1 done, 2 failed, the error on the port).
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { helperThread } from './blas.ts';
import { type HelperMessage, runTask } from './helper-tasks.ts';

helperThread();
const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
parentPort!.on('message', (first: HelperMessage) => {
  for (let task: HelperMessage | undefined = first; task; task = task.op === 'decodeRows' ? nextTask(DECODE_POLL_MS) : undefined) {
    try {
      runTask(task);
      Atomics.store(flag, 0, 1);
    } catch (err) {
      port.postMessage(err instanceof Error ? (err.stack ?? err.message) : String(err));
      Atomics.store(flag, 0, 2);
    }
    Atomics.notify(flag, 0);
  }
});

/**
 * After a decode step's share, the next one comes within a millisecond or two (the caller picks
 * the step's tokens meanwhile), but a worker back in its event loop sleeps, and waking it cost
 * ~0.7 ms a message on a 2-vCPU VM (cross-thread timestamps; a 160-row step is ~8 ms): so it
 * polls its port for this long first, on a core that would otherwise idle.
 */
const DECODE_POLL_MS = 5;

/** The next task if one arrives within ms, taken from the port directly (no 'message' event then). */
function nextTask(ms: number): HelperMessage | undefined {
  const until = performance.now() + ms;
  do {
    const m = receiveMessageOnPort(parentPort!);
    if (m) return m.message as HelperMessage;
  } while (performance.now() < until);
  return undefined;
}
Atomics.store(flag, 1, 2);
