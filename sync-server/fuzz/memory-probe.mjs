// Preloaded into the fuzzed server (`NODE_OPTIONS=--import …/memory-probe.mjs`,
// see run.ts): every second, one JSON line of its main thread's
// `process.memoryUsage()` appended to PARLEY_FUZZ_MEMORY_FILE. RSS alone does
// not say whether a run leaked: V8 keeps the old space it grew to under load
// and the allocator keeps pages it freed, so the report sets RSS beside the
// JS heap and the memory outside it. A plain module, not TypeScript: it loads
// before `--import tsx` registers the loader. Not used in production.
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.PARLEY_FUZZ_MEMORY_FILE;
if (isMainThread && file !== undefined && file !== '') {
  const sample = () => {
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), rss, heapTotal, heapUsed, external, arrayBuffers })}\n`);
  };
  sample();
  setInterval(sample, 1000).unref();
}
