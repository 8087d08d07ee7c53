import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureAndBuild, copyExample, makeTempDir } from '../test/helpers/cmake-project.js';
import { NinjaDepsError, type NinjaDepsLog, encodeNinjaDeps, latestNinjaDeps, parseNinjaDeps, relocateDepsLog } from './ninja-deps.js';
import { rootMapper } from '@orchestrate/core';

function sample(paths: string[]): NinjaDepsLog {
  return {
    version: 4,
    records: [
      ...paths.map((path, id) => ({ kind: 'path' as const, id, path })),
      { kind: 'deps', outputId: 0, mtime: 1700000000123456789n, inputIds: paths.map((_, id) => id).slice(1) },
    ],
  };
}

describe('encodeNinjaDeps / parseNinjaDeps', () => {
  it('pads every path length to a multiple of 4 and stores ~id after it', () => {
    const paths = ['a', 'ab', 'abc', 'abcd', 'abcde'];
    const buf = encodeNinjaDeps(sample(paths));
    expect(buf.subarray(0, 12).toString('latin1')).toBe('# ninjadeps\n');
    expect(buf.readInt32LE(12)).toBe(4);
    // First record: size 8 = "a" + 3 NULs + checksum ~0.
    expect(buf.readUInt32LE(16)).toBe(8);
    expect([...buf.subarray(20, 24)]).toEqual([0x61, 0, 0, 0]);
    expect(buf.readUInt32LE(24)).toBe(0xffffffff);
    const parsed = parseNinjaDeps(buf);
    expect(parsed.records.flatMap((r) => (r.kind === 'path' ? [r.path] : []))).toEqual(paths);
    expect(encodeNinjaDeps(parsed).equals(buf)).toBe(true);
  });

  it('keeps negative and 64-bit mtimes exact', () => {
    for (const mtime of [-1n, 0n, (1n << 62n) + 12345n]) {
      const log: NinjaDepsLog = {
        version: 4,
        records: [
          { kind: 'path', id: 0, path: 'x' },
          { kind: 'deps', outputId: 0, mtime, inputIds: [] },
        ],
      };
      const record = parseNinjaDeps(encodeNinjaDeps(log)).records[1];
      expect(record?.kind === 'deps' && record.mtime).toBe(mtime);
    }
  });

  it('refuses what ninja would truncate: bad checksum, undefined id, short record, wrong version', () => {
    const good = encodeNinjaDeps(sample(['out', 'in']));
    const badChecksum = Buffer.from(good);
    badChecksum.writeUInt32LE(0, 16 + 4 + 4); // first path record's checksum
    expect(() => parseNinjaDeps(badChecksum)).toThrow(/checksum/);

    const log = sample(['out']);
    const undefinedInput = encodeNinjaDeps(log);
    const withBadId = Buffer.concat([undefinedInput, Buffer.from([16, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0])]);
    expect(() => parseNinjaDeps(withBadId)).toThrow(/undefined input id 7/);

    expect(() => parseNinjaDeps(good.subarray(0, good.length - 2))).toThrow(NinjaDepsError);
    const v3 = Buffer.from(good);
    v3.writeInt32LE(3, 12);
    expect(() => parseNinjaDeps(v3)).toThrow(expect.objectContaining({ code: 'NINJA_DEPS_UNSUPPORTED_VERSION' }));
  });

  it('refuses a relocation that makes two paths equal', () => {
    const buf = encodeNinjaDeps(sample(['/a/x', '/b/x']));
    expect(() => relocateDepsLog(buf, (p) => p.replace(/^\/[ab]/, '/c'))).toThrow(/two paths/);
  });
});

describe('a .ninja_deps written by ninja for a CMake build', () => {
  let dir: string;
  let buildDir: string;
  let sourceDir: string;
  beforeAll(async () => {
    dir = makeTempDir('ninja-deps');
    sourceDir = join(dir, 'src');
    buildDir = join(dir, 'build');
    copyExample(sourceDir);
    await configureAndBuild(sourceDir, buildDir, 'Ninja');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips byte for byte', () => {
    const bytes = readFileSync(join(buildDir, '.ninja_deps'));
    expect(encodeNinjaDeps(parseNinjaDeps(bytes)).equals(bytes)).toBe(true);
    expect(relocateDepsLog(bytes, (p) => p).equals(bytes)).toBe(true);
  });

  it('holds absolute source paths and the output mtimes', () => {
    const deps = latestNinjaDeps(parseNinjaDeps(readFileSync(join(buildDir, '.ninja_deps'))));
    const greeting = deps.get('CMakeFiles/hello.dir/src/greeting.cpp.o');
    expect(greeting?.inputs).toContain(join(sourceDir, 'src/greeting.cpp'));
    expect(greeting?.inputs).toContain(join(sourceDir, 'include/hello/hello.hpp'));
  });

  it('relocates path records so that ninja itself reads the new paths and the same deps', async () => {
    const bytes = readFileSync(join(buildDir, '.ninja_deps'));
    const newRoot = '/somewhere/much/longer/than/the/old/root/src';
    const relocated = relocateDepsLog(bytes, rootMapper(sourceDir, newRoot));
    expect(relocated.length).not.toBe(bytes.length);

    const before = latestNinjaDeps(parseNinjaDeps(bytes));
    const after = latestNinjaDeps(parseNinjaDeps(relocated));
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [output, entry] of before) {
      expect(after.get(output)?.mtime).toBe(entry.mtime);
      expect(after.get(output)?.inputs).toEqual(entry.inputs.map(rootMapper(sourceDir, newRoot)));
    }

    // ninja -t deps reads the file; a bad record would print "premature end of file; recovering".
    const copy = join(dir, 'relocated');
    await execa('cp', ['-a', buildDir, copy]);
    writeFileSync(join(copy, '.ninja_deps'), relocated);
    const { stdout, stderr } = await execa('ninja', ['-C', copy, '-t', 'deps']);
    expect(stderr).toBe('');
    expect(stdout).toContain(`${newRoot}/src/greeting.cpp`);
    expect(stdout).not.toContain(sourceDir);
    expect(readFileSync(join(copy, '.ninja_deps')).equals(relocated)).toBe(true);
  });
});
