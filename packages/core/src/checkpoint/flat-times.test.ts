import { describe, expect, it } from 'vitest';
import { checkpointCreatedAt, flatTime, flattenRecordedTimes, FLAT_EPOCH_NS } from './flat-times.js';

const WALL = 1_760_000_000_123_456_789n; // 2025, a wall-clock time with every digit set

describe('flatTime', () => {
  it('maps every time at or after the epoch to the epoch', () => {
    expect(flatTime(WALL)).toBe(FLAT_EPOCH_NS);
    expect(flatTime(WALL + 86_400_000_000_000n)).toBe(FLAT_EPOCH_NS);
    expect(flatTime(FLAT_EPOCH_NS)).toBe(FLAT_EPOCH_NS);
  });

  it('keeps times before the epoch (a Nix unpack stamps sources with 1 s), below the flat time', () => {
    expect(flatTime(1_000_000_000n)).toBe(1_000_000_000n);
    expect(flatTime(FLAT_EPOCH_NS - 1n)).toBe(FLAT_EPOCH_NS - 1n);
  });

  it('never reverses two times and keeps equal times equal', () => {
    const times = [1n, 1_000_000_000n, FLAT_EPOCH_NS - 1n, FLAT_EPOCH_NS, WALL, WALL + 1n, 1n << 62n];
    for (const a of times) for (const b of times) if (a <= b) expect(flatTime(a) <= flatTime(b)).toBe(true);
  });

  it('lies on the coarsest file-system grid (2 s), so a restore on any file system replays it exactly', () => {
    expect(FLAT_EPOCH_NS % 2_000_000_000n).toBe(0n);
  });
});

describe('flattenRecordedTimes', () => {
  it('gives two builds of one tree that ran at different times and in another job order the same records', () => {
    const first = {
      'a.c': { hash: 'h', mtimeNs: '1000000000' },
      'a.o': { kind: 'file', mtimeNs: String(WALL + 7n) },
      'b.o': { kind: 'file', mtimeNs: String(WALL + 3n) },
    };
    const second = {
      'a.c': { hash: 'h', mtimeNs: '1000000000' },
      'a.o': { kind: 'file', mtimeNs: String(WALL + 99n) },
      'b.o': { kind: 'file', mtimeNs: String(WALL + 99n) },
    };
    expect(flattenRecordedTimes(first)).toEqual(flattenRecordedTimes(second));
    expect(flattenRecordedTimes(first)).toEqual({
      'a.c': { hash: 'h', mtimeNs: '1000000000' },
      'a.o': { kind: 'file', mtimeNs: String(FLAT_EPOCH_NS) },
      'b.o': { kind: 'file', mtimeNs: String(FLAT_EPOCH_NS) },
    });
    expect(first['a.o'].mtimeNs).toBe(String(WALL + 7n));
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
