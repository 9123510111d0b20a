import { describe, expect, it } from 'vitest';
import { LIMITS } from '@parley/protocol';
import { foldWaveform } from './recording.ts';

describe('foldWaveform', () => {
  it('folds many peaks into at most LIMITS.waveformLevels levels, each the loudest of its stretch, the loudest at 255', () => {
    const peaks = Array.from({ length: 640 }, (_, i) => (i === 10 ? 0.5 : i % 20 === 0 ? 0.25 : 0.01));
    const levels = foldWaveform(peaks);
    expect(levels).toHaveLength(LIMITS.waveformLevels);
    expect(levels[1]).toBe(255); // peaks 10..19 hold the loudest
    expect(levels[2]).toBe(128); // 0.25 of 0.5
    expect(levels[3]).toBe(5); // 0.01 of 0.5
    expect(Math.min(...levels)).toBeGreaterThanOrEqual(0);
  });

  it('keeps one level per peak when there are fewer, answers nothing for no peaks and zeros for silence', () => {
    expect(foldWaveform([0.1, 0.2])).toEqual([128, 255]);
    expect(foldWaveform([])).toEqual([]);
    expect(foldWaveform([0, 0, 0])).toEqual([0, 0, 0]);
  });
});
