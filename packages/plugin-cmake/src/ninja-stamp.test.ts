/** The times of ninja's logs after the restore of a flat checkpoint (stampNinjaLogs and its parts). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNinjaDeps, latestNinjaDeps, parseNinjaDeps } from './ninja-deps.js';
import { latestNinjaLogEntries, parseNinjaLog } from './ninja-log.js';
import { stampNinjaLogs } from './relocate.js';

const T = 1_796_531_645_123_999_998n;

describe('stampNinjaLogs', () => {
  it('sets every recorded mtime of .ninja_log and .ninja_deps to the restored time, keeping 0 (unknown) and the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestrate-ninja-stamp-'));
    try {
      writeFileSync(
        join(dir, '.ninja_log'),
        '# ninja log v5\n10\t20\t1765000000123456789\tCMakeFiles/calc.dir/src/calc.c.o\tabc123\n0\t5\t0\tphony-out\tdef456\n',
      );
      writeFileSync(
        join(dir, '.ninja_deps'),
        encodeNinjaDeps({
          version: 4,
          records: [
            { kind: 'path', id: 0, path: 'CMakeFiles/calc.dir/src/calc.c.o' },
            { kind: 'path', id: 1, path: '/usr/include/stdc-predef.h' },
            { kind: 'path', id: 2, path: 'other.o' },
            { kind: 'deps', outputId: 0, mtime: 1_765_000_000_123_456_789n, inputIds: [1] },
            { kind: 'deps', outputId: 2, mtime: 0n, inputIds: [1] },
          ],
        }),
      );
      await stampNinjaLogs(dir, T);
      const log = latestNinjaLogEntries(parseNinjaLog(readFileSync(join(dir, '.ninja_log'))));
      expect(log.get('CMakeFiles/calc.dir/src/calc.c.o')).toMatchObject({ startMs: 10, endMs: 20, mtime: T, hash: 'abc123' });
      expect(log.get('phony-out')?.mtime).toBe(0n);
      const deps = latestNinjaDeps(parseNinjaDeps(readFileSync(join(dir, '.ninja_deps'))));
      expect(deps.get('CMakeFiles/calc.dir/src/calc.c.o')).toEqual({ mtime: T, inputs: ['/usr/include/stdc-predef.h'] });
      expect(deps.get('other.o')?.mtime).toBe(0n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does nothing without logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestrate-ninja-stamp-'));
    try {
      await expect(stampNinjaLogs(dir, T)).resolves.toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
