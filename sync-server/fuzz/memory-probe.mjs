// Preloaded into the fuzzed server (`NODE_OPTIONS=--import …/memory-probe.mjs`,
// see run.ts): every second, one JSON line of its main thread's
// `process.memoryUsage()` appended to PARLEY_FUZZ_MEMORY_FILE. RSS alone does
// not say whether a run leaked: V8 keeps the old space it grew to under load
// and the allocator keeps pages it freed, so the report sets RSS beside the
// JS heap and the memory outside it. On SIGUSR2 it runs a full garbage
// collection first (the server runs with --expose-gc, run.ts) and marks that
// sample `collected`: the fuzzer measures RSS after it, so that the figure is
// what the server keeps, not garbage V8 had no reason yet to collect (an idle
// server allocates nothing, so nothing starts a collection).
//
// The storage worker thread has a V8 heap of its own, which RSS counts and the
// main thread's figures do not: on SIGUSR2 every thread that loaded this probe
// collects too and answers its heap on a BroadcastChannel, and the collected
// sample carries them (`threads`), so that the fuzzer can tell a worker's free
// heap from memory the server keeps. A plain module, not TypeScript: it loads
// before `--import tsx` registers the loader. Not used in production.
import { appendFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';

const file = process.env.PARLEY_FUZZ_MEMORY_FILE;
const CHANNEL = 'parley-fuzz-memory-probe';

const collect = () => {
  if (typeof globalThis.gc === 'function') globalThis.gc();
};

if (file !== undefined && file !== '') {
  const channel = new BroadcastChannel(CHANNEL);
  channel.unref();
  if (isMainThread) {
    const sample = (collected = false, threads = []) => {
      const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
      appendFileSync(file, `${JSON.stringify({ at: Date.now(), rss, heapTotal, heapUsed, external, arrayBuffers, collected, threads })}\n`);
    };
    sample();
    setInterval(sample, 1000).unref();
    /** Each other thread's heap after its collection, by thread id, for the collection in progress. */
    let answers = null;
    channel.onmessage = ({ data }) => {
      if (answers !== null && data?.kind === 'heap') answers.set(data.threadId, { heapTotal: data.heapTotal, heapUsed: data.heapUsed });
    };
    process.on('SIGUSR2', () => {
      answers = new Map();
      channel.postMessage({ kind: 'collect' });
      collect();
      // The threads answer within milliseconds; one busy with a long storage
      // job answers late and is left out (the fuzzer asks when all is quiet).
      setTimeout(() => {
        const threads = [...answers.values()];
        answers = null;
        sample(true, threads);
      }, 250);
    });
  } else {
    channel.onmessage = ({ data }) => {
      if (data?.kind !== 'collect') return;
      collect();
      const { total_heap_size, used_heap_size } = getHeapStatistics();
      channel.postMessage({ kind: 'heap', threadId, heapTotal: total_heap_size, heapUsed: used_heap_size });
    };
  }
}
