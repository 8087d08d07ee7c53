import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureAndBuild, copyExample, makeTempDir } from '../test/helpers/cmake-project.js';
import {
  NinjaLogError,
  latestNinjaLogEntries,
  mapNinjaLogOutputs,
  parseNinjaLog,
  recomputeNinjaLogHashes,
  serializeNinjaLog,
} from './ninja-log.js';
import { ninjaCommandHash } from './murmur-hash.js';

const SAMPLE = [
  '# ninja log v5',
  '0\t5\t1700000000123456789\ta.o\t1501c3ca410b9805',
  '2\t9\t1700000000223456789\tb.o\tf1f958c29d449f59',
  'garbage line without tabs',
  '10\t15\t1700000001000000000\ta.o\tabc',
  '',
].join('\n');

describe('parseNinjaLog', () => {
  it('reads the version and every entry in file order', () => {
    const log = parseNinjaLog(SAMPLE);
    expect(log.version).toBe(5);
    const entries = log.lines.flatMap((line) => (line.kind === 'entry' ? [line.entry] : []));
    expect(entries.map((entry) => entry.output)).toEqual(['a.o', 'b.o', 'a.o']);
    expect(entries[0]).toEqual({ startMs: 0, endMs: 5, mtime: 1700000000123456789n, output: 'a.o', hash: '1501c3ca410b9805' });
  });

  it('lets later lines win while keeping first-appearance order', () => {
    const latest = latestNinjaLogEntries(parseNinjaLog(SAMPLE));
    expect([...latest.keys()]).toEqual(['a.o', 'b.o']);
    expect(latest.get('a.o')?.hash).toBe('abc');
    expect(latest.get('a.o')?.startMs).toBe(10);
  });

  it('reads v6 logs like v5', () => {
    const log = parseNinjaLog('# ninja log v6\n1\t2\t3\tout\tff\n');
    expect(log.version).toBe(6);
    expect(latestNinjaLogEntries(log).get('out')?.mtime).toBe(3n);
  });

  it('refuses a file without the header', () => {
    expect(() => parseNinjaLog('0\t1\t2\tx\t3\n')).toThrow(NinjaLogError);
    expect(() => parseNinjaLog('')).toThrow(/Not a ninja build log/);
  });
});

describe('serializeNinjaLog', () => {
  it('reproduces an unmodified parse byte for byte, skipped lines and missing final newline included', () => {
    expect(serializeNinjaLog(parseNinjaLog(SAMPLE))).toBe(SAMPLE);
    const noFinalNewline = SAMPLE.trimEnd();
    expect(serializeNinjaLog(parseNinjaLog(noFinalNewline))).toBe(noFinalNewline);
  });
});

describe('recomputeNinjaLogHashes', () => {
  it('rewrites the hash of every line of each output and reports missing commands', () => {
    const commands = new Map([['a.o', 'cc -c a.c']]);
    const { log, changed, missing } = recomputeNinjaLogHashes(parseNinjaLog(SAMPLE), commands);
    expect(changed).toEqual(['a.o']);
    expect(missing).toEqual(['b.o']);
    const text = serializeNinjaLog(log);
    const hash = ninjaCommandHash('cc -c a.c');
    expect(text).toBe(SAMPLE.replace('1501c3ca410b9805', hash).replace('\tabc\n', `\t${hash}\n`));
  });

  it('with the recorded command, rehashes only entries logged with that command and keeps the others for ninja to run', () => {
    const old = 'cc -I/old/src -c /old/src/a.c';
    const now = 'cc -I/new/src -c /new/src/a.c';
    const text = [
      '# ninja log v5',
      `0\t5\t1700000000123456789\ta.o\t${ninjaCommandHash(old)}`,
      `2\t9\t1700000000223456789\tb.o\t${ninjaCommandHash('cc -c /old/src/b.c -DOLDFLAG')}`,
      '',
    ].join('\n');
    const commands = new Map([
      ['a.o', now],
      ['b.o', 'cc -c /new/src/b.c'],
    ]);
    const recorded = (command: string): string => command.replaceAll('/new/', '/old/');
    const { log, changed, stale } = recomputeNinjaLogHashes(parseNinjaLog(text), commands, { recorded });
    expect(changed).toEqual(['a.o']);
    // b.o was logged with another command (a flag since removed): ninja runs it again, at the old place or the new.
    expect(stale).toEqual(['b.o']);
    expect(serializeNinjaLog(log)).toBe(text.replace(ninjaCommandHash(old), ninjaCommandHash(now)));
  });

  it('refuses v7 logs, whose hash is rapidhash', () => {
    expect(() => recomputeNinjaLogHashes(parseNinjaLog('# ninja log v7\n'), new Map())).toThrow(
      expect.objectContaining({ code: 'NINJA_LOG_UNSUPPORTED_VERSION' }),
    );
  });
});

describe('mapNinjaLogOutputs', () => {
  it('renames only the outputs the mapper changes', () => {
    const log = mapNinjaLogOutputs(parseNinjaLog(SAMPLE), (p) => (p === 'b.o' ? '/new/b.o' : p));
    expect(serializeNinjaLog(log)).toBe(SAMPLE.replace('\tb.o\t', '\t/new/b.o\t'));
  });
});

describe('a .ninja_log written by ninja for a CMake build', () => {
  let dir: string;
  beforeAll(async () => {
    dir = makeTempDir('ninja-log');
    copyExample(join(dir, 'src'));
    await configureAndBuild(join(dir, 'src'), join(dir, 'build'), 'Ninja');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips byte for byte', () => {
    const bytes = readFileSync(join(dir, 'build', '.ninja_log'));
    const log = parseNinjaLog(bytes);
    expect(log.lines.every((line) => line.kind === 'entry')).toBe(true);
    expect(Buffer.from(serializeNinjaLog(log), 'utf8').equals(bytes)).toBe(true);
  });
});
