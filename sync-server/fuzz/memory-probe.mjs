// Preloaded into the fuzzed server (`NODE_OPTIONS=--import …/memory-probe.mjs`,
// see run.ts): every second, one JSON line of its main thread's
// `process.memoryUsage()` appended to PARLEY_FUZZ_MEMORY_FILE. RSS alone does
// not say whether a run leaked: V8 keeps the old space it grew to under load
// and the allocator keeps pages it freed, so the report sets RSS beside the
// JS heap and the memory outside it. On SIGUSR2 it runs a full garbage
// collection first (the server runs with --expose-gc, run.ts) and marks that
// sample `collected`: the fuzzer measures RSS after it, so that the figure is
// what the server keeps, not garbage V8 had no reason yet to collect (an idle
// server allocates nothing, so nothing starts a collection). A plain module, not TypeScript: it loads
// before `--import tsx` registers the loader. Not used in production.
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.PARLEY_FUZZ_MEMORY_FILE;
if (isMainThread && file !== undefined && file !== '') {
  const sample = (collected = false) => {
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), rss, heapTotal, heapUsed, external, arrayBuffers, collected })}\n`);
  };
  sample();
  setInterval(sample, 1000).unref();
  process.on('SIGUSR2', () => {
    if (typeof globalThis.gc === 'function') globalThis.gc();
    sample(true);
  });
}
