// Entry of the storage worker thread, plain JavaScript so that Node starts it
// as it is. In the build (`npm run build:server`) it sits beside the compiled
// sqlite-worker.js and loads it: no tsx in production. In the source tree
// (development and tests) there is only sqlite-worker.ts, and Node does not
// apply the parent's `--import tsx` to a worker's entry file, so it registers
// tsx first (harmless when the thread already has it).
import { existsSync } from 'node:fs';

const compiled = existsSync(new URL('./sqlite-worker.js', import.meta.url));

// Loading through the module hooks can leave the thread's event loop with
// nothing to wait for, and an idle worker exits (code 0) before its message
// listener exists; this timer holds it until then.
const hold = setInterval(() => undefined, 60_000);
try {
  if (compiled) {
    await import('./sqlite-worker.js');
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('./sqlite-worker.ts');
  }
} finally {
  clearInterval(hold);
}
