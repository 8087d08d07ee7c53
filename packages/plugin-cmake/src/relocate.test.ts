import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ninjaCommandHash } from './murmur-hash.js';
import { encodeNinjaDeps, latestNinjaDeps, parseNinjaDeps } from './ninja-deps.js';
import {
  PLACEHOLDER,
  captureNinjaDeps,
  captureText,
  fromPlaceholders,
  mentionsRoot,
  repairNinjaLog,
  replaceRoots,
  restoreNinjaDeps,
  tryUnrelocatable,
} from './relocate.js';

const A = { source: '/tmp/a/proj', build: '/tmp/a/proj/build' };
const B = { source: '/work/elsewhere/proj', build: '/work/elsewhere/proj/build' };

describe('captureText and the restore replacement', () => {
  it('replaces both roots by placeholders, the build dir inside the source dir first, and back to new roots', () => {
    const text = Buffer.from('-I/tmp/a/proj/include -I/tmp/a/proj/build/generated -c /tmp/a/proj/src/x.cpp /tmp/a/proj2/y\n');
    const captured = captureText(text, A);
    expect(captured.residue).toBe(false);
    expect(captured.content.toString()).toBe(
      `-I${PLACEHOLDER.source}/include -I${PLACEHOLDER.build}/generated -c ${PLACEHOLDER.source}/src/x.cpp /tmp/a/proj2/y\n`,
    );
    expect(replaceRoots(captured.content, fromPlaceholders(B)).toString()).toBe(
      '-I/work/elsewhere/proj/include -I/work/elsewhere/proj/build/generated -c /work/elsewhere/proj/src/x.cpp /tmp/a/proj2/y\n',
    );
  });

  it('leaves binary content alone and reports a root named in it', () => {
    const binary = Buffer.concat([Buffer.from([0x7f, 0x45, 0, 1]), Buffer.from('/tmp/a/proj/src/x.cpp\0')]);
    expect(captureText(binary, A)).toEqual({ content: binary, residue: true });
    expect(captureText(Buffer.from([0, 1, 2]), A).residue).toBe(false);
  });

  it('recognises a root only as a whole path prefix', () => {
    expect(mentionsRoot(Buffer.from('/tmp/a/proj2/x'), '/tmp/a/proj')).toBe(false);
    expect(mentionsRoot(Buffer.from('"/tmp/a/proj"'), '/tmp/a/proj')).toBe(true);
  });
});

describe('.ninja_deps through capture and restore', () => {
  it('keeps ids and deps records while the paths move', () => {
    const log = encodeNinjaDeps({
      version: 4,
      records: [
        { kind: 'path', id: 0, path: 'CMakeFiles/t.dir/src/x.cpp.o' },
        { kind: 'path', id: 1, path: '/tmp/a/proj/src/x.cpp' },
        { kind: 'path', id: 2, path: '/tmp/a/proj/build/generated/v.hpp' },
        { kind: 'deps', outputId: 0, mtime: 1_700_000_000_123_456_789n, inputIds: [1, 2] },
      ],
    });
    const captured = captureNinjaDeps(log, A);
    expect(captured.residue).toBe(false);
    const restored = restoreNinjaDeps(captured.content, B);
    expect(latestNinjaDeps(parseNinjaDeps(restored)).get('CMakeFiles/t.dir/src/x.cpp.o')).toEqual({
      mtime: 1_700_000_000_123_456_789n,
      inputs: ['/work/elsewhere/proj/src/x.cpp', '/work/elsewhere/proj/build/generated/v.hpp'],
    });
    expect(restoreNinjaDeps(captured.content, A)).toEqual(log);
  });
});

describe('tryUnrelocatable', () => {
  it('accepts a plain move', () => {
    expect(tryUnrelocatable(A, B)).toBeUndefined();
  });

  it('refuses directories with characters CMake escapes', () => {
    expect(tryUnrelocatable(A, { source: '/tmp/with space/p', build: '/tmp/with space/p/build' })).toMatch(/characters/);
  });

  it('refuses a build directory that moved relative to the source directory', () => {
    expect(tryUnrelocatable(A, { source: '/w/p', build: '/w/p-build' })).toMatch(/build directory lies at/);
  });
});

describe('repairNinjaLog with a command table', () => {
  const compile = (roots: { source: string; build: string }): string => `c++ -I${roots.build}/gen -c ${roots.source}/src/x.cpp`;
  const logged = (hash: string): string => `# ninja log v5\n1\t2\t3\tCMakeFiles/x.dir/src/x.cpp.o\t${hash}\n`;

  async function repairIn(table: Record<string, string>): Promise<{ log: string; stale: readonly string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'orchestrate-ninja-table-'));
    writeFileSync(join(dir, '.ninja_log'), logged(ninjaCommandHash(compile(A))));
    const { stale } = await repairNinjaLog(dir, A, B, table);
    const log = readFileSync(join(dir, '.ninja_log'), 'utf8');
    rmSync(dir, { recursive: true });
    return { log, stale };
  }

  it('rehashes an entry logged with the table command at the old roots, for the new roots, without a build.ninja', async () => {
    const table = { 'CMakeFiles/x.dir/src/x.cpp.o': compile(PLACEHOLDER) };
    expect(await repairIn(table)).toEqual({ log: logged(ninjaCommandHash(compile(B))), stale: [] });
  });

  it('leaves an entry whose logged hash is not the table command as it is, so ninja runs it again', async () => {
    const table = { 'CMakeFiles/x.dir/src/x.cpp.o': `${compile(PLACEHOLDER)} -O2` };
    expect(await repairIn(table)).toEqual({ log: logged(ninjaCommandHash(compile(A))), stale: ['CMakeFiles/x.dir/src/x.cpp.o'] });
  });
});
