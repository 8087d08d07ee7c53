import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tryParseGitIndex } from './git-index.js';

interface Written {
  path: string;
  mode?: number;
  stage?: number;
  /** On-disk flags besides the stage and the name length (0x8000 assume-valid). */
  flags?: number;
  /** Extended flags (0x4000 skip-worktree, 0x2000 intent-to-add); version 3 and 4. */
  extended?: number;
  mtimeNsec?: number;
}

const OID = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';

/** An index file as git writes it (gitformat-index.txt), for the reader's tests. */
function indexFile(version: number, entries: Written[], extensions: Buffer[] = [], trailer: 'sha1' | 'zero' | 'bad' = 'sha1'): Buffer {
  const parts: Buffer[] = [Buffer.from('DIRC'), u32(version), u32(entries.length)];
  let previous = '';
  for (const [i, entry] of entries.entries()) {
    const fixed = Buffer.alloc(62);
    const stat = [
      1_700_000_000 + i,
      1,
      1_700_000_000 + i,
      entry.mtimeNsec ?? 123_456_789,
      2049,
      1000 + i,
      entry.mode ?? 0o100644,
      1000,
      100,
      7,
    ];
    stat.forEach((value, k) => fixed.writeUInt32BE(value, k * 4));
    Buffer.from(OID, 'hex').copy(fixed, 40);
    const name = Buffer.from(entry.path);
    const extended = entry.extended !== undefined;
    fixed.writeUInt16BE((entry.flags ?? 0) | (extended ? 0x4000 : 0) | ((entry.stage ?? 0) << 12) | Math.min(name.length, 0xfff), 60);
    const head = extended ? Buffer.concat([fixed, u16(entry.extended ?? 0)]) : fixed;
    if (version === 4) {
      let common = 0;
      while (common < previous.length && common < entry.path.length && previous[common] === entry.path[common]) common++;
      const drop = previous.length - common;
      parts.push(head, varint(drop), Buffer.from(entry.path.slice(common)), Buffer.alloc(1));
    } else {
      const size = (head.length + name.length + 8) & ~7;
      parts.push(head, name, Buffer.alloc(size - head.length - name.length));
    }
    previous = entry.path;
  }
  parts.push(...extensions);
  const body = Buffer.concat(parts);
  const digest = createHash('sha1').update(body).digest();
  if (trailer === 'bad') digest[0] = (digest[0] ?? 0) ^ 1;
  return Buffer.concat([body, trailer === 'zero' ? Buffer.alloc(20) : digest]);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

/** git's offset varint (varint.c, encode_varint). */
function varint(value: number): Buffer {
  const bytes = [value & 0x7f];
  for (let rest = value >> 7; rest > 0; rest >>= 7) {
    rest -= 1;
    bytes.unshift(0x80 | (rest & 0x7f));
  }
  return Buffer.from(bytes);
}

function extension(signature: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(signature, 'latin1'), u32(payload.length), payload]);
}

const paths = ['Makefile', 'src/a.c', 'src/a.h', 'src/deep/dir/with/a/long/name.c', `src/${'x'.repeat(300)}.c`, 'src/ünï.c'];

describe('tryParseGitIndex', () => {
  for (const version of [2, 3, 4]) {
    it(`reads every entry of a version ${version} index: path, mode, id, stage and stat data`, () => {
      const entries = tryParseGitIndex(
        indexFile(
          version,
          paths.map((path) => ({ path })),
        ),
      );
      expect(entries?.map((e) => e.path)).toEqual(paths);
      expect(entries?.[1]).toEqual({
        path: 'src/a.c',
        mode: '100644',
        oid: OID,
        stage: 0,
        ctimeSec: 1_700_000_001,
        ctimeNsec: 1,
        mtimeSec: 1_700_000_001,
        mtimeNsec: 123_456_789,
        ino: 1001,
        uid: 1000,
        gid: 100,
        size: 7,
        flags: 0,
      });
    });
  }

  it('reads a name of 0xfff bytes or more, whose length the flags cannot hold', () => {
    const long = `d/${'n'.repeat(5000)}`;
    expect(tryParseGitIndex(indexFile(2, [{ path: 'a' }, { path: long }, { path: 'z' }]))?.map((e) => e.path)).toEqual(['a', long, 'z']);
  });

  it('reads a version 4 name that drops more than 127 bytes of the previous one (a two-byte varint)', () => {
    const first = `${'p'.repeat(200)}/x`;
    expect(tryParseGitIndex(indexFile(4, [{ path: first }, { path: 'q' }]))?.map((e) => e.path)).toEqual([first, 'q']);
  });

  it('gives the flags as git keeps them in memory: assume-valid, and skip-worktree and intent-to-add shifted by 16', () => {
    const entries = tryParseGitIndex(
      indexFile(3, [
        { path: 'assumed', flags: 0x8000 },
        { path: 'sparse', extended: 0x4000 },
        { path: 'added', extended: 0x2000 },
      ]),
    );
    expect(entries?.map((e) => e.flags)).toEqual([0x8000, 1 << 30, 1 << 29]);
  });

  it('reads the stages of a merge conflict, and the modes of an executable, a link and a submodule', () => {
    const entries = tryParseGitIndex(
      indexFile(2, [
        { path: 'c', stage: 1 },
        { path: 'c', stage: 2 },
        { path: 'c', stage: 3 },
        { path: 'x', mode: 0o100755 },
        { path: 'y', mode: 0o120000 },
        { path: 'z', mode: 0o160000 },
      ]),
    );
    expect(entries?.map((e) => `${e.path}:${e.stage}:${e.mode}`)).toEqual([
      'c:1:100644',
      'c:2:100644',
      'c:3:100644',
      'x:0:100755',
      'y:0:120000',
      'z:0:160000',
    ]);
  });

  it('skips optional extensions (TREE, UNTR, EOIE) and accepts the zero trailer of index.skipHash', () => {
    const exts = [extension('TREE', Buffer.from('tree data')), extension('UNTR', Buffer.alloc(3)), extension('EOIE', Buffer.alloc(24))];
    expect(tryParseGitIndex(indexFile(2, [{ path: 'a' }], exts))?.length).toBe(1);
    expect(tryParseGitIndex(indexFile(2, [{ path: 'a' }], [], 'zero'))?.length).toBe(1);
  });

  it('does not read a split index (link), a sparse index (sdir) or any other required extension', () => {
    expect(tryParseGitIndex(indexFile(2, [{ path: 'a' }], [extension('link', Buffer.alloc(20))]))).toBeUndefined();
    expect(tryParseGitIndex(indexFile(2, [{ path: 'a' }], [extension('sdir', Buffer.alloc(0))]))).toBeUndefined();
  });

  it("does not read a sparse index's directory entry (mode 040000)", () => {
    expect(tryParseGitIndex(indexFile(2, [{ path: 'a' }, { path: 'dir/', mode: 0o040000, extended: 0x4000 }]))).toBeUndefined();
  });

  it('does not read a damaged file: a wrong checksum, a truncated one, another signature or version', () => {
    const good = indexFile(
      2,
      paths.map((path) => ({ path })),
    );
    expect(tryParseGitIndex(indexFile(2, [{ path: 'a' }], [], 'bad'))).toBeUndefined();
    expect(tryParseGitIndex(good.subarray(0, 100))).toBeUndefined();
    expect(tryParseGitIndex(Buffer.concat([Buffer.from('DIRX'), good.subarray(4)]))).toBeUndefined();
    expect(tryParseGitIndex(indexFile(5, [{ path: 'a' }]))).toBeUndefined();
    // More entries announced than the file holds.
    const more = Buffer.from(good);
    more.writeUInt32BE(paths.length + 1, 8);
    const body = more.subarray(0, more.length - 20);
    createHash('sha1')
      .update(body)
      .digest()
      .copy(more, more.length - 20);
    expect(tryParseGitIndex(more)).toBeUndefined();
  });
});
