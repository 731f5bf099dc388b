/**
 * A helper thread's entry and loop (helper-threads.ts runs it bundled with the modules it imports,
 * as plain JavaScript): once loaded, say so (flag[1] = 2); then run each task and raise flag[0]
 * (1 done, 2 failed, the error on the port).
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { helperThread } from './blas.ts';
import { type HelperMessage, runTask } from './helper-tasks.ts';

helperThread();
const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
parentPort!.on('message', (task: HelperMessage) => {
  try {
    runTask(task);
    Atomics.store(flag, 0, 1);
  } catch (err) {
    port.postMessage(err instanceof Error ? (err.stack ?? err.message) : String(err));
    Atomics.store(flag, 0, 2);
  }
  Atomics.notify(flag, 0);
});
Atomics.store(flag, 1, 2);
