import { describe, expect, it } from 'vitest';
import { checkpointCreatedAt, orderRecordedTimes, ORDER_EPOCH_NS, ORDER_STEP_NS, rankTimes } from './time-order.js';

const WALL = 1_760_000_000_123_456_789n; // 2025, a wall-clock time with every digit set

describe('rankTimes', () => {
  it('maps distinct times at or after the epoch to consecutive grid steps from the epoch, in order', () => {
    const ranked = rankTimes([WALL + 5n, WALL, WALL + 3_000_000_000n]);
    expect(ranked.get(WALL)).toBe(ORDER_EPOCH_NS);
    expect(ranked.get(WALL + 5n)).toBe(ORDER_EPOCH_NS + ORDER_STEP_NS);
    expect(ranked.get(WALL + 3_000_000_000n)).toBe(ORDER_EPOCH_NS + 2n * ORDER_STEP_NS);
  });

  it('keeps equal times equal', () => {
    const ranked = rankTimes([WALL, WALL, WALL + 1n]);
    expect(ranked.get(WALL)).toBe(ORDER_EPOCH_NS);
    expect(ranked.size).toBe(2);
  });

  it('keeps times before the epoch as values (a Nix unpack stamps sources with 1 s), below every ranked one', () => {
    const ranked = rankTimes([1_000_000_000n, WALL, 1n]);
    expect(ranked.get(1_000_000_000n)).toBe(1_000_000_000n);
    expect(ranked.get(1n)).toBe(1n);
    expect(ranked.get(WALL)).toBe(ORDER_EPOCH_NS);
  });

  it('keeps the strict order of any set of times', () => {
    const times = [3n, 1_000_000_000n, ORDER_EPOCH_NS - 1n, ORDER_EPOCH_NS, WALL, WALL + 1n, WALL + 1n, WALL + 999n, 1n << 62n];
    const ranked = rankTimes(times);
    for (const a of times) {
      for (const b of times) {
        const ra = ranked.get(a) as bigint;
        const rb = ranked.get(b) as bigint;
        expect(Math.sign(Number(ra - rb))).toBe(Math.sign(Number(a - b)));
      }
    }
  });

  it('gives the same times for two builds that ran at different wall-clock times in the same order', () => {
    const first = [WALL, WALL + 10n, WALL + 10n, WALL + 7_000_000n];
    const second = first.map((t) => t + 86_400_000_000_000n + 17n);
    const a = rankTimes(first);
    const b = rankTimes(second);
    expect(first.map((t) => a.get(t))).toEqual(second.map((t) => b.get(t)));
  });
});

describe('orderRecordedTimes', () => {
  it('ranks sources and state together, as one order, and leaves the other fields', () => {
    const sources = { 'a.c': { hash: 'h', mtimeNs: '1000000000' }, 'b.c': { hash: 'h', mtimeNs: String(WALL + 2n) } };
    const state = { 'a.o': { kind: 'file', mtimeNs: String(WALL + 1n) }, 'b.o': { kind: 'file', mtimeNs: String(WALL + 3n) } };
    const [s, t] = orderRecordedTimes([sources, state]);
    expect(s).toEqual({ 'a.c': { hash: 'h', mtimeNs: '1000000000' }, 'b.c': { hash: 'h', mtimeNs: String(ORDER_EPOCH_NS + ORDER_STEP_NS) } });
    expect(t).toEqual({
      'a.o': { kind: 'file', mtimeNs: String(ORDER_EPOCH_NS) },
      'b.o': { kind: 'file', mtimeNs: String(ORDER_EPOCH_NS + 2n * ORDER_STEP_NS) },
    });
    expect(sources['b.c'].mtimeNs).toBe(String(WALL + 2n));
  });
});

describe('checkpointCreatedAt', () => {
  const now = (): Date => new Date('2030-01-02T03:04:05.678Z');

  it('is SOURCE_DATE_EPOCH when set', () => {
    expect(checkpointCreatedAt({ SOURCE_DATE_EPOCH: '315532800' }, now)).toBe('1980-01-01T00:00:00.000Z');
  });

  it('is now without SOURCE_DATE_EPOCH, or when it is not a whole number of seconds', () => {
    expect(checkpointCreatedAt({}, now)).toBe('2030-01-02T03:04:05.678Z');
    expect(checkpointCreatedAt({ SOURCE_DATE_EPOCH: 'yesterday' }, now)).toBe('2030-01-02T03:04:05.678Z');
  });
});
