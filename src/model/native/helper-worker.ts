/**
 * A helper thread's entry and loop (helper-threads.ts runs it bundled with the modules it imports,
 * as plain JavaScript): once loaded, say so (flag[1] = 2); then run each task and raise flag[0]
 * (1 done, 2 failed, the error on the port). A section that comes every few milliseconds (decode
 * steps) asks its helpers to poll their port for the next task for pollMs after each one: a worker
 * back in its event loop sleeps, and waking it cost ~0.7 ms a message on a 2-vCPU VM
 * (cross-thread timestamps, a one-off timing; a 160-row decode step is ~8 ms).
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { helperThread } from './blas.ts';
import { type HelperMessage, runTask } from './helper-tasks.ts';
import type { HelperPost } from './helper-threads.ts';

helperThread();
const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
parentPort!.on('message', (first: HelperPost) => {
  for (let post: HelperPost | undefined = first; post; post = post.pollMs > 0 ? next(post.pollMs) : undefined) {
    try {
      runTask(post.task as HelperMessage);
      Atomics.store(flag, 0, 1);
    } catch (err) {
      port.postMessage(err instanceof Error ? (err.stack ?? err.message) : String(err));
      Atomics.store(flag, 0, 2);
    }
    Atomics.notify(flag, 0);
  }
});

/** The next post if one arrives within ms, taken from the port directly (no 'message' event then). */
function next(ms: number): HelperPost | undefined {
  const until = performance.now() + ms;
  do {
    const m = receiveMessageOnPort(parentPort!);
    if (m) return m.message as HelperPost;
  } while (performance.now() < until);
  return undefined;
}
Atomics.store(flag, 1, 2);
