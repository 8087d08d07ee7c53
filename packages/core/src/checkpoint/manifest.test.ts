import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../testing/random.js';
import {
  checkpointManifestSchema,
  isSourceRecord,
  isStateRecord,
  parseCheckpointManifest,
  sourceRecordSchema,
  stateRecordSchema,
} from './manifest.js';

const SOURCE = { hash: 'a'.repeat(40), kind: 'file', mtimeNs: '1700000000123456789' };
const STATE = { kind: 'file', blob: 'b'.repeat(64), size: 12, mtimeNs: '1700000000123456789', transform: 'cmake-paths' };

/** Values that probe each check: wrong types, edge numbers, near-miss strings. */
const PROBES: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  '',
  'file',
  'exec',
  'link',
  'dir',
  'socket',
  'source',
  'build',
  'a'.repeat(40),
  'a'.repeat(64),
  'A'.repeat(40),
  'b'.repeat(63),
  '12',
  '-12',
  '1'.repeat(21),
  '12x',
  [],
  {},
  true,
];

/** Records derived from `base`: each key set to each probe, removed, and an extra key added. */
function variants(base: Record<string, unknown>, keys: readonly string[]): unknown[] {
  const out: unknown[] = [base, null, [], 'x'];
  for (const key of keys) {
    for (const probe of PROBES) out.push({ ...base, [key]: probe });
    const { [key]: _removed, ...rest } = base;
    out.push(rest);
  }
  out.push({ ...base, extra: 1 });
  return out;
}

describe('the hand-written record checks', () => {
  it('accept exactly what the source record schema accepts', () => {
    for (const record of variants(SOURCE, ['hash', 'kind', 'target', 'mtimeNs'])) {
      expect(isSourceRecord(record), JSON.stringify(record)).toBe(sourceRecordSchema.safeParse(record).success);
    }
  });

  it('accept exactly what the state record schema accepts', () => {
    for (const record of variants(STATE, ['kind', 'blob', 'size', 'mtimeNs', 'target', 'transform', 'pathBound'])) {
      expect(isStateRecord(record), JSON.stringify(record)).toBe(stateRecordSchema.safeParse(record).success);
    }
  });
});

describe('parseCheckpointManifest', () => {
  const manifest = {
    schema: 1,
    project: 'p',
    createdAt: '2026-11-25T01:00:00.000Z',
    orchestrate: '0.1.0',
    fingerprint: { 'toolchain.cc': 'gcc' },
    roots: { project: '/a', source: '/a', build: '/a/build' },
    sourceDir: '.',
    buildDir: 'build',
    sources: { 'src/x.c': SOURCE, 'src/y.c': { ...SOURCE, kind: 'exec' } },
    state: { 'x.o': STATE, obj: { kind: 'dir', mtimeNs: '1' } },
    data: { make: { graph: {} } },
  };

  it('agrees with the schema on seeded random damage, and gives its first issue', () => {
    const random = mulberry32(20261125);
    const pick = <T>(list: readonly T[]): T => random.pick(list);
    const outcomes = { accepted: 0, rejected: 0 };
    for (let round = 0; round < 400; round++) {
      const damaged = structuredClone(manifest) as Record<string, any>;
      const where = pick(['sources', 'state', 'top', 'path']);
      if (where === 'top') damaged[pick(Object.keys(manifest))] = pick(PROBES);
      else if (where === 'path') {
        const map = pick(['sources', 'state']);
        damaged[map][pick(['../x', '/abs', 'a//b', 'ok/path', './x', 'a\\b', ''])] = map === 'sources' ? SOURCE : STATE;
      } else {
        const records = damaged[where] as Record<string, Record<string, unknown>>;
        const record = records[pick(Object.keys(records))] as Record<string, unknown>;
        record[pick(['hash', 'kind', 'target', 'mtimeNs', 'blob', 'size', 'transform', 'extra'])] = pick(PROBES);
      }
      const fast = parseCheckpointManifest(damaged);
      const full = checkpointManifestSchema.safeParse(damaged);
      expect(fast.success, JSON.stringify(damaged)).toBe(full.success);
      outcomes[full.success ? 'accepted' : 'rejected']++;
      if (fast.success && full.success) expect(fast.data).toEqual(full.data);
      if (!fast.success && !full.success) expect(fast.error.issues[0]).toEqual(full.error.issues[0]);
    }
    // Both verdicts were exercised.
    expect(outcomes.accepted).toBeGreaterThan(20);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });

  it('returns the manifest of a valid document', () => {
    const parsed = parseCheckpointManifest(structuredClone(manifest));
    expect(parsed.success && parsed.data).toEqual(manifest);
  });
});
