import { describe, expect, it } from 'vitest';
import type { StateRecord } from './manifest.js';
import { changedTime, tryResolveLinkInPlan } from './restore.js';

const S = 1_000_000_000n;
const GRIDS = [1n, 1_000n, 1_000_000n, 10_000_000n, S, 2n * S];

describe('changedTime', () => {
  it('is now when the clock is ahead of everything recorded, on a nanosecond grid', () => {
    const recorded = 1_700_000_000n * S + 123n;
    const now = recorded + 5n * S;
    expect(changedTime(recorded, now, 1n)).toBe(now);
  });

  it('rounds now up to the file system grid, never down', () => {
    const recorded = 1_700_000_000n * S;
    const now = recorded + 5n * S + 1n;
    expect(changedTime(recorded, now, S)).toBe(recorded + 6n * S);
    expect(changedTime(recorded, now, 2n * S)).toBe(recorded + 6n * S);
  });

  it('is strictly newer than the newest recorded time and on the grid, for every grid', () => {
    for (const grid of GRIDS) {
      for (const recorded of [1_700_000_000n * S, 1_700_000_000n * S + grid, 1_700_000_000n * S + 1_234_567_891n]) {
        for (const now of [recorded - 3600n * S, recorded - 1n, recorded, recorded + 1n, recorded + grid, recorded + 7n * S + 13n]) {
          const time = changedTime(recorded, now, grid);
          expect(time > recorded, `grid ${grid} recorded ${recorded} now ${now}`).toBe(true);
          expect(time % grid).toBe(0n);
          expect(time >= now).toBe(true);
        }
      }
    }
  });

  it('stays strictly newer when the clock runs behind (recorded times in the future)', () => {
    const now = 1_700_000_000n * S;
    const recorded = now + 3600n * S; // a checkpoint from a machine an hour ahead
    expect(changedTime(recorded, now, 1n)).toBe(recorded + 1n);
    expect(changedTime(recorded, now, S)).toBe(recorded + S);
    // A recorded time off the grid still leads to a grid time after it.
    expect(changedTime(recorded + 1n, now, S)).toBe(recorded + 2n * S);
  });

  it('is newer than a recorded time exactly one grid step behind now', () => {
    const now = 1_700_000_000n * S;
    expect(changedTime(now - S, now, S)).toBe(now);
  });
});

describe('tryResolveLinkInPlan', () => {
  const plan = (links: Record<string, string>): Map<string, StateRecord> =>
    new Map(Object.entries(links).map(([path, target]) => [path, { kind: 'link', target, mtimeNs: '1' }]));

  it('resolves a target inside the build directory, the directory itself included', () => {
    expect(tryResolveLinkInPlan('lib/libx.so', plan({ 'lib/libx.so': 'libx.so.1' }))).toBe('lib/libx.so.1');
    expect(tryResolveLinkInPlan('a/up', plan({ 'a/up': '..' }))).toBe('');
    expect(tryResolveLinkInPlan('a/b', plan({ 'a/b': './../c/./d' }))).toBe('c/d');
  });

  it('follows the other links of the plan, as the file system will', () => {
    expect(tryResolveLinkInPlan('x', plan({ x: 'd/y/../escape', 'd/y': '..' }))).toBeUndefined();
    expect(tryResolveLinkInPlan('x', plan({ x: 'd/y/inner', 'd/y': '../e' }))).toBe('e/inner');
  });

  it('refuses absolute, empty, escaping and looping targets', () => {
    expect(tryResolveLinkInPlan('x', plan({ x: '/etc' }))).toBeUndefined();
    expect(tryResolveLinkInPlan('x', plan({ x: '' }))).toBeUndefined();
    expect(tryResolveLinkInPlan('a/x', plan({ 'a/x': '../..' }))).toBeUndefined();
    expect(tryResolveLinkInPlan('x', plan({ x: 'y/z', y: 'x' }))).toBeUndefined();
  });
});
