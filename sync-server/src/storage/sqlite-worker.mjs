// Entry of the storage worker thread. Node does not apply the parent's
// `--import tsx` to a worker's entry file, so this plain module registers tsx
// (harmless when the thread already has it) and then loads the TypeScript.
import { register } from 'tsx/esm/api';

// Loading through the module hooks can leave the thread's event loop with
// nothing to wait for, and an idle worker exits (code 0) before its message
// listener exists; this timer holds it until then.
const hold = setInterval(() => undefined, 60_000);
try {
  register();
  await import('./sqlite-worker.ts');
} finally {
  clearInterval(hold);
}
