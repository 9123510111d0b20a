import { describe, expect, test } from 'vitest';
import { olderCandidates, segmentRows } from './segmentPlan.ts';

const rows = segmentRows('a/b', {
  segments: [
    { segment: '2025-01', count: 3, firstSeq: 1, lastSeq: 3 },
    { segment: '2025-03', count: 2, firstSeq: 4, lastSeq: 5 },
    { segment: '2025-11', count: 1, firstSeq: 6, lastSeq: 6 },
  ],
});

describe('segments', () => {
  test('rows are keyed by conversation and segment', () => {
    expect(rows.map((r) => r.id)).toEqual(['a/b|2025-01', 'a/b|2025-03', 'a/b|2025-11']);
    expect(rows[1]).toMatchObject({ conv: 'a/b', segment: '2025-03', count: 2, firstSeq: 4, lastSeq: 5 });
  });

  test('with nothing shown, every segment is a candidate, newest first', () => {
    expect(olderCandidates(rows, null).map((r) => r.segment)).toEqual(['2025-11', '2025-03', '2025-01']);
  });

  test('what precedes a message: its own segment, then the older ones', () => {
    expect(olderCandidates(rows, '2025-03').map((r) => r.segment)).toEqual(['2025-03', '2025-01']);
    expect(olderCandidates(rows, '2025-02').map((r) => r.segment)).toEqual(['2025-01']);
    expect(olderCandidates(rows, '2024-12')).toEqual([]);
  });
});
