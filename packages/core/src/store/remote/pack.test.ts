import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { Header } from 'tar';
import { describe, expect, test } from 'vitest';
import { canDecompress, type Compression } from './compression.js';
import type { CheckpointManifest } from '../../checkpoint/manifest.js';
import { manifestBlobs, planPacks, unpackPack, writePack, type NeededBlob } from './pack.js';
import type { FetchTarget } from './remote-store.js';

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function memoryTarget(): FetchTarget & { blobs: Map<string, Buffer> } {
  const blobs = new Map<string, Buffer>();
  return {
    location: 'memory',
    blobs,
    hasBlob: async (hash) => blobs.has(hash),
    putBlob: async (content) => {
      blobs.set(sha(content), content);
      return sha(content);
    },
    putFile: async (path) => {
      const content = await readFile(path);
      blobs.set(sha(content), content);
      return sha(content);
    },
    putCheckpoint: async () => {
      throw new Error('not here');
    },
  };
}

const contents = [Buffer.from('one'), Buffer.alloc(70_000, 7), Buffer.from('three\n')];
const source = { location: 'memory', readBlob: async (hash: string) => contents.find((c) => sha(c) === hash)! };
const needed: NeededBlob[] = contents.map((c) => ({ hash: sha(c), size: c.length }));

/** A gzip tar of raw entries, written header by header. */
async function hostileTar(entries: { path: string; type?: string; linkpath?: string; content: Buffer; size?: number }[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pack-test-'));
  const file = join(dir, 'pack');
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const block = Buffer.alloc(512);
    new Header({
      path: entry.path,
      mode: 0o644,
      size: entry.size ?? entry.content.length,
      type: (entry.type ?? 'File') as 'File',
      ...(entry.linkpath === undefined ? {} : { linkpath: entry.linkpath }),
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    }).encode(block, 0);
    blocks.push(block, entry.content, Buffer.alloc((512 - (entry.content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  await pipeline(Readable.from([Buffer.concat(blocks)]), createGzip(), createWriteStream(file));
  return file;
}

describe.each(['gzip', 'zstd'] as Compression[])('packs compressed with %s', (compression) => {
  test.runIf(canDecompress(compression))('a pack round-trips: every blob is written, byte-equal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pack-test-'));
    const pack = await writePack(needed, source, join(dir, 'pack'), compression);
    expect(pack.blobs).toEqual(needed.map((b) => b.hash));
    expect(sha(await readFile(join(dir, 'pack')))).toBe(pack.digest);
    const target = memoryTarget();
    const expected = new Map(needed.map((b) => [b.hash, b.size]));
    const written = await unpackPack(
      join(dir, 'pack'),
      compression,
      { expected, wanted: new Set(expected.keys()), maxBlobSize: 1e9 },
      target,
      dir,
    );
    expect(written).toBe(3);
    for (const content of contents) expect(target.blobs.get(sha(content))?.equals(content)).toBe(true);
  });
});

describe('unpacking refuses hostile entries and writes nothing of them', () => {
  const good = Buffer.from('good');
  const rules = (extra: Record<string, number | undefined> = {}) => {
    const expected = new Map<string, number | undefined>([[sha(good), good.length], ...Object.entries(extra)]);
    return { expected, wanted: new Set(expected.keys()), maxBlobSize: 1000 };
  };
  const cases: [string, Parameters<typeof hostileTar>[0], RegExp, Record<string, number | undefined>?][] = [
    ['a name that is not a blob hash', [{ path: '../../etc/passwd', content: good }], /not a blob this pack should hold/],
    [
      'a symbolic link',
      [{ path: sha(good), type: 'SymbolicLink', linkpath: '/etc/passwd', content: Buffer.alloc(0), size: 0 }],
      /not a regular file/,
    ],
    ['bytes that do not match the name', [{ path: sha(good), content: Buffer.from('evil') }], /does not match its hash/],
    ['a size other than the manifest records', [{ path: sha(good), content: Buffer.from('good!') }], /expected 4/],
    [
      'an unsized blob above the bound',
      [{ path: 'a'.repeat(64), content: Buffer.alloc(2000) }],
      /expected at most 1000/,
      { ['a'.repeat(64)]: undefined },
    ],
  ];
  test.each(cases)('%s', async (_name, entries, message, extra) => {
    const file = await hostileTar(entries);
    const target = memoryTarget();
    await expect(unpackPack(file, 'gzip', rules(extra), target, join(file, '..'))).rejects.toThrow(message);
    expect(target.blobs.size).toBe(0);
  });

  test('a blob the index lists but the pack lacks is an error', async () => {
    const file = await hostileTar([{ path: sha(good), content: good }]);
    await expect(unpackPack(file, 'gzip', rules({ ['b'.repeat(64)]: 3 }), memoryTarget(), join(file, '..'))).rejects.toThrow(
      /missing from the pack/,
    );
  });
});

describe('planPacks', () => {
  const blob = (n: number, size = 10): NeededBlob => ({ hash: n.toString(16).padStart(64, '0'), size });
  test('groups blobs in order into packs of bounded size; a larger blob gets its own', () => {
    const plan = planPacks([blob(1), blob(2), blob(3, 100), blob(4)], undefined, 25);
    expect(plan.map((p) => ('blobs' in p ? p.blobs.map((b) => b.hash.slice(-1)) : []))).toEqual([['1', '2'], ['3'], ['4']]);
  });
  test('reuses a previous pack while at least half its blobs are alive, packs the rest anew', () => {
    const previous = {
      schema: 1 as const,
      checkpoint: 'f'.repeat(64),
      packs: [
        { digest: 'a'.repeat(64), size: 5, compression: 'gzip' as const, blobs: [blob(1).hash, blob(2).hash] },
        { digest: 'b'.repeat(64), size: 5, compression: 'gzip' as const, blobs: [blob(3).hash, blob(5).hash, blob(6).hash] },
      ],
    };
    const plan = planPacks([blob(1), blob(2), blob(3), blob(4)], previous, 1000);
    expect(plan).toEqual([{ reuse: previous.packs[0] }, { blobs: [blob(3), blob(4)] }]);
  });
});

test("a transformed file's recorded size is not expected of its blob (the blob holds the placeholders, the file the paths)", () => {
  const blob = 'a'.repeat(64);
  const plain = 'b'.repeat(64);
  const manifest = {
    state: {
      'lib.pc': { kind: 'file', blob, size: 94, mtimeNs: '1', transform: 'orchestrate:roots' },
      'copy.pc': { kind: 'file', blob, size: 65, mtimeNs: '1' },
      'main.o': { kind: 'file', blob: plain, size: 10, mtimeNs: '1' },
    },
  } as unknown as CheckpointManifest;
  // The untransformed copy tells the blob's size; alone, a transformed record tells none.
  expect(manifestBlobs(manifest)).toEqual([
    { hash: blob, size: 65 },
    { hash: plain, size: 10 },
  ]);
  const only = {
    state: { 'lib.pc': { kind: 'file', blob, size: 94, mtimeNs: '1', transform: 'orchestrate:roots' } },
  } as unknown as CheckpointManifest;
  expect(manifestBlobs(only)).toEqual([{ hash: blob, size: undefined }]);
});
