// A helper thread's entry (helper-threads.ts), in plain JavaScript: a worker does not inherit the
// process's TypeScript loader (neither `--import tsx` nor bin/pgpo.js's registration), so it
// registers tsx itself before loading the engine's modules. If that fails, it says why on its
// port and raises flag[1], so that the caller fails instead of waiting for it.
import { workerData } from 'node:worker_threads';

try {
  (await import('tsx/esm/api')).register();
  await import('./helper-worker.ts');
} catch (err) {
  workerData.port.postMessage(`could not start: ${err?.stack ?? err}`);
  Atomics.store(workerData.flag, 1, 1);
  Atomics.notify(workerData.flag, 0);
}
