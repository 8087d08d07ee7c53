import { describe, expect, it } from 'vitest';
import { planTimes, replayedNs, TimeRangeError } from './times.js';
import { FLAT_EPOCH_NS } from './flat-times.js';

const S = 1_000_000_000n;
const GRIDS = [1n, 1_000n, 1_000_000n, 10_000_000n, S, 2n * S];
const NOW = 1_800_000_000n * S + 123_456_789n;
/** What a file the build writes right after the restore can get at the earliest: the kernel's coarse clock, on the grid. */
const earliestWrite = (grid: bigint): bigint => {
  const t = NOW - 10_000_000n;
  return t - (t % grid);
};

describe('planTimes', () => {
  it('replays times of a past checkpoint exactly, and dates changes after them and before the build', () => {
    for (const grid of GRIDS) {
      const plan = planTimes({ oldestNs: 1_700_000_000n * S, newestNs: NOW - 3600n * S }, NOW, grid);
      expect(plan.shiftNs).toBe(0n);
      expect(plan.changedNs > NOW - 3600n * S).toBe(true);
      expect(plan.changedNs < earliestWrite(grid), `grid ${grid}`).toBe(true);
      expect(plan.changedNs % grid).toBe(0n);
    }
  });

  it('re-bases times that reach the clock (a machine ahead by 2 s, by an hour, a forged far future) below it, keeping their order on the grid', () => {
    for (const grid of GRIDS) {
      for (const ahead of [0n, 1n, 2n * S, 3600n * S, 100n * 365n * 86_400n * S]) {
        const newest = NOW + ahead;
        const oldest = newest - 7n * S - 13n;
        const plan = planTimes({ oldestNs: oldest, newestNs: newest }, NOW, grid);
        const where = `grid ${grid}, ahead ${ahead}`;
        expect(plan.shiftNs % grid, where).toBe(0n);
        expect(newest - plan.shiftNs < plan.changedNs, where).toBe(true);
        expect(plan.changedNs < earliestWrite(grid), where).toBe(true);
        // The order within the checkpoint is kept: one shift for all.
        expect(oldest - plan.shiftNs < newest - plan.shiftNs, where).toBe(true);
      }
    }
  });

  it('keeps a clock that runs ahead of the checkpoint exact: an hour behind is simply the past', () => {
    const plan = planTimes({ oldestNs: NOW - 7200n * S, newestNs: NOW - 3600n * S }, NOW, 1n);
    expect(plan.shiftNs).toBe(0n);
  });

  it('refuses times no file system holds, and spans that cannot be re-based below the clock', () => {
    expect(() => planTimes({ oldestNs: -5n, newestNs: NOW - S }, NOW, 1n)).toThrow(TimeRangeError);
    expect(() => planTimes({ oldestNs: 0n, newestNs: NOW - S }, NOW, 1n)).toThrow(/outside what a file system can hold/);
    expect(() => planTimes({ oldestNs: S, newestNs: 1n << 64n }, NOW, 1n)).toThrow(TimeRangeError);
    expect(() => planTimes({ oldestNs: S, newestNs: NOW + 3600n * S }, NOW, 1n)).toThrow(/cannot be re-based/);
  });
});

describe('replayedNs: a flat checkpoint (times: flat)', () => {
  const now = 1_796_531_645_000_000_000n; // 2026-12
  const step = 1_000_000n;

  it('replays the flat time just before the changed sources, after every file dated before the restore', () => {
    const plan = planTimes({ oldestNs: 1_000_000_000n, newestNs: FLAT_EPOCH_NS }, now, step);
    expect(plan.shiftNs).toBe(0n);
    expect(plan.flatNs).toBe(plan.changedNs - step);
    // A toolchain file outside the Nix store (a CMake module, a system header) dated this year: older.
    const hostFile = now - 86_400_000_000_000n;
    expect(replayedNs(plan, FLAT_EPOCH_NS)).toBeGreaterThan(hostFile);
    expect(replayedNs(plan, FLAT_EPOCH_NS)).toBeLessThan(plan.changedNs);
    // The unpack's 1 s stays as it is, below the flat time.
    expect(replayedNs(plan, 1_000_000_000n)).toBe(1_000_000_000n);
  });

  it('leaves exact checkpoints as they were: no flat time, times shifted only when they reach the clock', () => {
    const plan = planTimes({ oldestNs: FLAT_EPOCH_NS, newestNs: FLAT_EPOCH_NS + 5n * step }, now, step);
    expect(plan.flatNs).toBeUndefined();
    expect(replayedNs(plan, FLAT_EPOCH_NS)).toBe(FLAT_EPOCH_NS);
  });
});
