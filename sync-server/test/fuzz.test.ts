/**
 * The sync fuzzer (fuzz/run.ts) in `npm test`: 10,000 hostile frames against
 * a real server process while an honest client sends. The same code as
 * `npm run fuzz` (100,000 frames), with the same rules except the honest
 * ack's p99, a timing figure that `npm run fuzz` reports and checks.
 *
 * The seed is fixed so that a failure here fails again; PARLEY_FUZZ_SEED
 * tries another.
 */
import { describe, expect, it } from 'vitest';
import { failures, memoryGrowth, runFuzz } from '../fuzz/run.ts';

const SEED = Number(process.env.PARLEY_FUZZ_SEED ?? 13);
/** What the C allocator may keep of the run's peak beyond 10% (memoryGrowth says why; `npm run fuzz` allows none). */
const ALLOCATOR_SLACK = 64 * 1024 * 1024;

describe(`the sync server under 10,000 fuzzed frames (seed ${SEED})`, () => {
  it('lives, acknowledges and delivers every honest message, keeps every document loadable and its memory (live JS heaps and Buffers within 10%; RSS less the free V8 heap within 10% and 64 MB), and logs one line per malformed socket', async () => {
    const report = await runFuzz({ frames: 10_000, seed: SEED, baselineMs: 1000 });
    expect(report.frames).toBe(10_000);
    expect(failures(report, { allocatorSlack: ALLOCATOR_SLACK })).toEqual([]);
    expect(report.crash).toBeNull();
    expect(report.exitCode).toBe(0);
    expect(report.honest.sent).toBeGreaterThan(0);
    expect(report.honest.acked).toBe(report.honest.sent);
    expect(report.honest.delivered).toBe(report.honest.sent);
    expect(report.documents.failed).toEqual([]);
    expect(memoryGrowth(report, { allocatorSlack: ALLOCATOR_SLACK })).toEqual([]);
    // Issue 12: a malformed frame is logged once per socket, without a stack (it was 24,930 stack traces per 100,000 frames).
    expect(report.log.stackTraces).toBe(0);
    expect(report.log.malformedFrameLines).toBeLessThanOrEqual(report.hostile.sessions);
    expect(report.log.warnings).toBe(report.log.malformedFrameLines);
  }, 300_000);
});
