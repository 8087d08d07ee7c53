/**
 * Packs: the blobs of a checkpoint travel to and from a remote in a few large
 * archives rather than thousands of small requests.
 *
 *   pack        a tar (written through node-tar's Header) of blobs, each entry
 *               named by the blob's SHA-256, compressed with zstd or gzip; its
 *               name is the SHA-256 of its compressed bytes
 *   pack index  JSON beside the checkpoint: which pack holds which blob
 *
 * A rolling checkpoint reuses the packs of the previous one that are still
 * mostly alive and packs only the rest, so a push uploads what is new. Reading
 * a pack trusts nothing in it: the pack's digest is checked before it is
 * opened, then every entry must be a regular file named by a blob hash the
 * pack index lists for that pack, with the size the manifest records, and its
 * bytes must hash to its name before the local store gets them.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Header, Parser, type ReadEntry } from 'tar';
import * as z from 'zod';
import type { CheckpointManifest } from '../../checkpoint/manifest.js';
import { compressor, decompressor, type Compression } from './compression.js';
import type { FetchTarget, PushSource } from './remote-store.js';

const SHA256 = /^[0-9a-f]{64}$/;
const sha256Hex = z.string().regex(SHA256, 'expected a SHA-256 hex digest');

/** Bumped on every incompatible change of the pack index. */
export const PACK_INDEX_SCHEMA = 1;

/** Default bound of a pack: blob bytes before compression. */
export const DEFAULT_PACK_SIZE = 64 * 1024 * 1024;

/** A reused pack is kept when at least this share of its bytes is still needed; otherwise its live blobs are packed anew. */
const MIN_LIVE_SHARE = 0.5;

/** Blobs above this size are written through a temporary file rather than held in memory. */
const IN_MEMORY_BLOB = 4 * 1024 * 1024;

export const packEntrySchema = z.strictObject({
  /** SHA-256 of the pack's compressed bytes: its name. */
  digest: sha256Hex,
  /** Compressed size in bytes. */
  size: z.number().int().nonnegative(),
  compression: z.enum(['zstd', 'gzip']),
  /** The blobs in the pack, by hash. */
  blobs: z.array(sha256Hex).max(10_000_000),
});

export const packIndexSchema = z.strictObject({
  schema: z.literal(PACK_INDEX_SCHEMA),
  /** The checkpoint this index belongs to (SHA-256 of its manifest's bytes). */
  checkpoint: sha256Hex,
  packs: z.array(packEntrySchema).max(1_000_000),
});

export type PackEntry = z.infer<typeof packEntrySchema>;
export type PackIndex = z.infer<typeof packIndexSchema>;

/** A blob a checkpoint needs, with its size when the manifest records it. */
export interface NeededBlob {
  readonly hash: string;
  readonly size: number | undefined;
}

/** Every blob a manifest names (state files and attachments), once, in path order (neighbours pack together). */
export function manifestBlobs(manifest: CheckpointManifest): NeededBlob[] {
  const out = new Map<string, NeededBlob>();
  const paths = Object.keys(manifest.state).sort();
  for (const path of paths) {
    const record = manifest.state[path];
    if (record?.blob === undefined) continue;
    // A transformed file's record gives the restored file's size, not the stored blob's: unknown then.
    const size = record.transform === undefined ? record.size : undefined;
    if (out.get(record.blob)?.size === undefined) out.set(record.blob, { hash: record.blob, size: size ?? out.get(record.blob)?.size });
  }
  for (const blob of Object.values(manifest.attachments ?? {})) if (!out.has(blob)) out.set(blob, { hash: blob, size: undefined });
  return [...out.values()];
}

/**
 * Parses a pack index read from a remote and checks it against the manifest:
 * it belongs to checkpoint `id`, and every blob the manifest names is in a
 * pack (the first that lists it is used).
 * Returns the index and, for each blob, the pack that holds it.
 */
export function checkPackIndex(
  json: unknown,
  id: string,
  manifest: CheckpointManifest,
): { index: PackIndex; packOf: Map<string, PackEntry> } {
  const parsed = packIndexSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `pack index fails its schema${issue && issue.path.length > 0 ? ` at '${issue.path.join('.')}'` : ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const index = parsed.data;
  if (index.checkpoint !== id) throw new Error(`pack index belongs to checkpoint ${index.checkpoint.slice(0, 12)}, not ${id.slice(0, 12)}`);
  const packOf = new Map<string, PackEntry>();
  for (const pack of index.packs) for (const blob of pack.blobs) if (!packOf.has(blob)) packOf.set(blob, pack);
  for (const blob of manifestBlobs(manifest)) {
    if (!packOf.has(blob.hash)) throw new Error(`pack index lists no pack holding blob ${blob.hash}`);
  }
  return { index, packOf };
}

/** A pack planned for a push: reused from a previous index, or to be written from these blobs. */
export type PlannedPack = { readonly reuse: PackEntry } | { readonly blobs: readonly NeededBlob[] };

/**
 * Plans the packs of a checkpoint: packs of `previous` (the scope's newest
 * checkpoint on the remote) whose bytes are mostly still needed are reused
 * whole; the remaining blobs are grouped, in path order, into new packs of at
 * most `packSize` bytes (a larger blob gets a pack of its own).
 */
export function planPacks(needed: readonly NeededBlob[], previous: PackIndex | undefined, packSize: number): PlannedPack[] {
  const wanted = new Set(needed.map((blob) => blob.hash));
  const covered = new Set<string>();
  const plan: PlannedPack[] = [];
  for (const pack of previous?.packs ?? []) {
    const live = pack.blobs.filter((hash) => wanted.has(hash) && !covered.has(hash));
    // The sizes of dead blobs are not known here: the share is counted in blobs.
    if (live.length === 0 || live.length / pack.blobs.length < MIN_LIVE_SHARE) continue;
    plan.push({ reuse: pack });
    for (const hash of live) covered.add(hash);
  }
  let current: NeededBlob[] = [];
  let currentBytes = 0;
  for (const blob of needed) {
    if (covered.has(blob.hash)) continue;
    const bytes = blob.size ?? 0;
    if (current.length > 0 && currentBytes + bytes > packSize) {
      plan.push({ blobs: current });
      current = [];
      currentBytes = 0;
    }
    current.push(blob);
    currentBytes += bytes;
  }
  if (current.length > 0) plan.push({ blobs: current });
  return plan;
}

const ZERO_BLOCK = Buffer.alloc(512);

/** The tar stream of `blobs`, read from `source`: one deterministic header per blob (name = hash, mode 0644, time 0, no owner). */
async function* tarStream(blobs: readonly NeededBlob[], source: PushSource): AsyncGenerator<Buffer> {
  for (const blob of blobs) {
    const content = await source.readBlob(blob.hash);
    const header = new Header({
      path: blob.hash,
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: content.length,
      mtime: new Date(0),
      type: 'File',
      uname: '',
      gname: '',
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    yield block;
    yield content;
    const pad = (512 - (content.length % 512)) % 512;
    if (pad > 0) yield ZERO_BLOCK.subarray(0, pad);
  }
  yield ZERO_BLOCK;
  yield ZERO_BLOCK;
}

/** A writable that hashes and counts what passes on to `file`. */
function hashingFile(file: string): { sink: Writable; done: () => { digest: string; size: number } } {
  const hash = createHash('sha256');
  let size = 0;
  const out = createWriteStream(file);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      if (out.write(chunk)) callback();
      else out.once('drain', () => callback());
    },
    final(callback) {
      out.end(() => callback());
    },
    destroy(error, callback) {
      out.destroy();
      callback(error);
    },
  });
  return { sink, done: () => ({ digest: hash.digest('hex'), size }) };
}

/** Writes a pack of `blobs` to `file`; returns its entry for the pack index. */
export async function writePack(
  blobs: readonly NeededBlob[],
  source: PushSource,
  file: string,
  compression: Compression,
): Promise<PackEntry> {
  const { sink, done } = hashingFile(file);
  await pipeline(Readable.from(tarStream(blobs, source)), compressor(compression), sink);
  const { digest, size } = done();
  return { digest, size, compression, blobs: blobs.map((blob) => blob.hash) };
}

/** SHA-256 and size of a file, streamed. */
export async function digestFile(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: hash.digest('hex'), size };
}

/** Limits of one pack's unpacking: which blobs it may hold and how large each may be. */
export interface UnpackRules {
  /** The blobs the pack index says the pack holds, with their expected sizes where the manifest records them. */
  readonly expected: ReadonlyMap<string, number | undefined>;
  /** Only these are written (those the target lacks); the others are checked and skipped. */
  readonly wanted: ReadonlySet<string>;
  /** Bound of a blob whose size the manifest does not record. */
  readonly maxBlobSize: number;
}

/**
 * Unpacks a pack file whose digest was checked, into `into`: every entry is
 * checked (a regular file, named by a blob hash the pack should hold, once,
 * of the recorded size) and hashed before it is written. Returns the blobs
 * written. Throws on the first violation, naming it.
 */
export async function unpackPack(
  file: string,
  compression: Compression,
  rules: UnpackRules,
  into: FetchTarget,
  tempDir: string,
): Promise<number> {
  const seen = new Set<string>();
  const pending: Promise<void>[] = [];
  let failure: Error | undefined;
  let written = 0;
  const fail = (message: string): void => {
    failure ??= new Error(message);
  };
  const staging = await mkdtemp(join(tempDir, 'unpack-'));
  try {
    const parser = new Parser({
      strict: true,
      // Compression is undone before the parser: it must not guess another.
      gzip: false,
      brotli: false,
      zstd: false,
      // Pax headers are the only meta entries accepted; bounded, names are hashes anyway.
      maxMetaEntrySize: 4096,
      onwarn: (code: string, message: string) => fail(`tar: ${code}: ${message}`),
      onReadEntry: (entry: ReadEntry) => {
        const name = entry.path;
        if (entry.type !== 'File' && entry.type !== 'OldFile') {
          fail(`entry '${name.slice(0, 80)}' is a ${entry.type}, not a regular file`);
          entry.resume();
          return;
        }
        if (!SHA256.test(name) || !rules.expected.has(name)) {
          fail(`entry '${name.slice(0, 80)}' is not a blob this pack should hold`);
          entry.resume();
          return;
        }
        if (seen.has(name)) {
          fail(`blob ${name} appears twice`);
          entry.resume();
          return;
        }
        seen.add(name);
        const expectedSize = rules.expected.get(name);
        if (expectedSize !== undefined ? entry.size !== expectedSize : entry.size > rules.maxBlobSize) {
          fail(`blob ${name} has ${entry.size} bytes, expected ${expectedSize ?? `at most ${rules.maxBlobSize}`}`);
          entry.resume();
          return;
        }
        const want = rules.wanted.has(name);
        pending.push(
          receiveEntry(entry, name, want, into, staging).then(
            (stored) => {
              if (stored) written++;
            },
            (error: unknown) => fail((error as Error).message),
          ),
        );
      },
    });
    await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), decompressor(compression), parser as unknown as Writable);
    await Promise.all(pending);
    if (failure) throw failure;
    for (const hash of rules.expected.keys()) if (!seen.has(hash)) throw new Error(`blob ${hash} is missing from the pack`);
    return written;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Reads one entry, checks its bytes against its name, and stores it when wanted; true when stored. */
async function receiveEntry(entry: ReadEntry, hash: string, want: boolean, into: FetchTarget, staging: string): Promise<boolean> {
  const digest = createHash('sha256');
  if (!want || entry.size <= IN_MEMORY_BLOB) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      digest.update(chunk);
      if (want) chunks.push(chunk);
    }
    const actual = digest.digest('hex');
    if (actual !== hash) throw new Error(`blob ${hash} does not match its hash (got ${actual})`);
    if (!want) return false;
    const stored = await into.putBlob(Buffer.concat(chunks));
    if (stored !== hash) throw new Error(`blob ${hash} was stored as ${stored}`);
    return true;
  }
  const temp = join(staging, hash);
  const { sink, done } = hashingFile(temp);
  await pipeline(entry as unknown as Readable, sink);
  const actual = done().digest;
  if (actual !== hash) throw new Error(`blob ${hash} does not match its hash (got ${actual})`);
  const stored = await into.putFile(temp);
  await rm(temp, { force: true });
  if (stored !== hash) throw new Error(`blob ${hash} was stored as ${stored}`);
  return true;
}

/** The bytes a remote stores for a JSON document. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value)}\n`);
}
