import { mkdir, mkdtemp, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA_VERSION, type CheckpointManifest } from '../checkpoint/manifest.js';
import { isOrchestrateError } from '../errors.js';
import { sha256 } from '../sources/hash.js';
import { LocalStore, projectKey, removeBlobUnlessRefreshed } from './local-store.js';
import type { LoadedCheckpoint } from './store.js';

async function newStore(): Promise<LocalStore> {
  return LocalStore.open(join(await mkdtemp(join(tmpdir(), 'orchestrate-store-')), 'store'));
}

/** The id of a checkpoint that loaded; `undefined` for a manifest that did not, so an expected list of ids fails on it. */
function loadedId(loaded: LoadedCheckpoint): string | undefined {
  return loaded.error === undefined ? loaded.ref.id : undefined;
}

function blobPath(store: LocalStore, hash: string): string {
  return join(store.location, 'objects', hash.slice(0, 2), hash);
}

function manifest(project: string, createdAt: string, blobs: string[]): CheckpointManifest {
  return {
    schema: MANIFEST_SCHEMA_VERSION,
    project,
    createdAt,
    orchestrate: '0.0.0-test',
    fingerprint: { 'test.key': 'value' },
    roots: { project: '/p', source: '/p', build: '/p' },
    sourceDir: '',
    buildDir: '',
    sources: {},
    state: Object.fromEntries(blobs.map((blob, i) => [`out/${i}.o`, { kind: 'file', blob, size: 1, mtimeNs: '1000' }])),
    data: {},
  };
}

async function storeError(promise: Promise<unknown>): Promise<{ code: string; message: string; exitCode: number }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isOrchestrateError(error)) throw new Error(`expected an orchestrate error, got ${String(error)}`);
  return error;
}

/**
 * Dates every blob `ms` back, as if written before the gc or prune began: a
 * blob touched in the last seconds is kept, since a capture that is not
 * listed yet may name it.
 */
async function ageBlobs(store: LocalStore, ms = 60_000): Promise<void> {
  const past = new Date(Date.now() - ms);
  const objects = join(store.location, 'objects');
  for (const prefix of await readdir(objects)) {
    for (const name of await readdir(join(objects, prefix))) await utimes(join(objects, prefix, name), past, past);
  }
}

async function tempFiles(store: LocalStore): Promise<string[]> {
  return (await readdir(join(store.location, 'tmp'))).filter((name) => !name.startsWith('capture-'));
}

describe('LocalStore blobs', () => {
  it('stores content under its SHA-256 and reads it back verified', async () => {
    const store = await newStore();
    const content = Buffer.from('int main(void) { return 0; }\n');
    const hash = await store.putBlob(content);
    expect(hash).toBe(sha256(content));
    expect(await readFile(blobPath(store, hash))).toEqual(content);
    expect(await store.hasBlob(hash)).toBe(true);
    expect(await store.readBlob(hash)).toEqual(content);
    await expect(store.verifyBlob(hash)).resolves.toBeUndefined();
    expect(await tempFiles(store)).toEqual([]);
  });

  it('stores a file by its content, spanning several 1 MiB reads, and reuses a blob present for the same bytes', async () => {
    const store = await newStore();
    const file = join(store.location, '..', 'big.o');
    const content = Buffer.alloc(2.5 * 1024 * 1024);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31 + (i >> 20)) & 0xff;
    await writeFile(file, content);
    const hash = await store.putFile(file);
    expect(hash).toBe(sha256(content));
    expect(await readFile(blobPath(store, hash))).toEqual(content);
    await expect(store.verifyBlob(hash)).resolves.toBeUndefined();
    const before = await stat(blobPath(store, hash));
    const copy = join(store.location, '..', 'same.o');
    await writeFile(copy, content);
    expect(await store.putFile(copy)).toBe(hash);
    expect(await store.putFile(copy, { likelyPresent: true })).toBe(hash);
    expect((await stat(blobPath(store, hash))).ino).toBe(before.ino);
    const other = join(store.location, '..', 'other.o');
    await writeFile(other, 'other bytes');
    expect(await store.putFile(other, { likelyPresent: true })).toBe(sha256(Buffer.from('other bytes')));
    expect(await tempFiles(store)).toEqual([]);
  });

  it('shows the bytes it stores to a scan, from offset 0, without another read of the file', async () => {
    const store = await newStore();
    const file = join(store.location, '..', 'scanned.o');
    const content = Buffer.alloc(1.5 * 1024 * 1024, 7);
    await writeFile(file, content);
    for (const likelyPresent of [false, true, false]) {
      const seen: Buffer[] = [];
      const hash = await store.putFile(file, {
        likelyPresent,
        scan: (chunk, offset) => {
          if (offset === 0) seen.length = 0;
          expect(offset).toBe(Buffer.concat(seen).length);
          seen.push(Buffer.from(chunk));
        },
      });
      expect(Buffer.concat(seen)).toEqual(content);
      expect(hash).toBe(sha256(content));
    }
  });

  it('copies a blob to a destination file', async () => {
    const store = await newStore();
    const hash = await store.putBlob(Buffer.from('state'));
    const dest = join(store.location, '..', 'restored.o');
    await store.copyBlobTo(hash, dest);
    expect(await readFile(dest, 'utf8')).toBe('state');
  });

  it('reuses a blob that is present: same hash, not written again, its time refreshed for gc', async () => {
    const store = await newStore();
    const hash = await store.putBlob(Buffer.from('same'));
    const path = blobPath(store, hash);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(path, old, old);
    const before = await stat(path);
    expect(await store.putBlob(Buffer.from('same'))).toBe(hash);
    const after = await stat(path);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBeGreaterThan(before.mtimeMs);
  });

  it('leaves one valid blob when parallel writers store the same content', async () => {
    const store = await newStore();
    const content = Buffer.alloc(256 * 1024, 7);
    const hashes = await Promise.all(Array.from({ length: 24 }, () => store.putBlob(content)));
    expect(new Set(hashes)).toEqual(new Set([sha256(content)]));
    const hash = hashes[0] as string;
    expect(await readdir(join(store.location, 'objects', hash.slice(0, 2)))).toEqual([hash]);
    expect(sha256(await readFile(blobPath(store, hash)))).toBe(hash);
    expect(await tempFiles(store)).toEqual([]);
  });

  it('refuses a blob whose bytes do not match its hash, naming the blob, and removes it so it can be stored again', async () => {
    const store = await newStore();
    const content = Buffer.from('the real object file');
    const hash = await store.putBlob(content);
    const path = blobPath(store, hash);
    await writeFile(path, 'damaged bytes');
    const error = await storeError(store.verifyBlob(hash));
    expect(error).toMatchObject({ code: 'ERR_STORE', exitCode: 3 });
    expect(error.message).toContain(`${path}: blob content does not match its hash`);
    expect(await store.hasBlob(hash)).toBe(false);
    // The next capture of the same content writes it again.
    expect(await store.putBlob(content)).toBe(hash);
    expect(await store.readBlob(hash)).toEqual(content);
  });

  it('refuses a damaged blob on read too', async () => {
    const store = await newStore();
    const hash = await store.putBlob(Buffer.from('abc'));
    await writeFile(blobPath(store, hash), 'abd');
    const error = await storeError(store.readBlob(hash));
    expect(error.message).toContain('blob content does not match its hash');
  });

  it('says a missing blob is missing, naming it', async () => {
    const store = await newStore();
    const hash = sha256('never stored');
    const error = await storeError(store.readBlob(hash));
    expect(error.message).toContain(`${blobPath(store, hash)}: blob is missing`);
    expect((await storeError(store.verifyBlob(hash))).message).toContain('blob is missing');
  });

  it('rejects a hash that is not a SHA-256 digest instead of building a path from it', async () => {
    const store = await newStore();
    const error = await storeError(store.readBlob('../../etc/passwd'));
    expect(error.message).toContain("invalid blob hash '../../etc/passwd'");
  });
});

describe('LocalStore checkpoints', () => {
  it('saves a manifest under the SHA-256 of its bytes and loads it back', async () => {
    const store = await newStore();
    const blob = await store.putBlob(Buffer.from('o'));
    const m = manifest('proj', '2024-01-01T00:00:00.000Z', [blob]);
    const ref = await store.putCheckpoint(m);
    const file = join(store.location, 'checkpoints', projectKey('proj'), `${ref.id}.json`);
    expect(ref.id).toBe(sha256(await readFile(file)));
    expect(await store.loadCheckpoints('proj')).toEqual([{ ref, manifest: m }]);
    expect(await store.loadCheckpoints('other')).toEqual([]);
  });

  it('loads newest first, and reports an edited manifest and one that fails the schema by file', async () => {
    const store = await newStore();
    const older = await store.putCheckpoint(manifest('proj', '2024-01-01T00:00:00.000Z', []));
    const newer = await store.putCheckpoint(manifest('proj', '2024-02-01T00:00:00.000Z', []));
    const dir = join(store.location, 'checkpoints', projectKey('proj'));
    const edited = join(dir, `${older.id}.json`);
    await writeFile(edited, (await readFile(edited, 'utf8')).replace('0.0.0-test', '0.0.0-edit'));
    const bad = `${JSON.stringify({ ...manifest('proj', '2024-03-01T00:00:00.000Z', []), schema: 99 })}\n`;
    const badFile = join(dir, `${sha256(bad)}.json`);
    await writeFile(badFile, bad);

    const loaded = await store.loadCheckpoints('proj');
    expect(loaded.filter((l) => l.error === undefined).map((l) => l.ref?.id)).toEqual([newer.id]);
    expect(loaded).toContainEqual({ file: edited, error: 'content does not match its id (corrupted or edited)' });
    expect(loaded).toContainEqual({ file: badFile, error: expect.stringMatching(/^fails the manifest schema at 'schema'/) });
  });

  it('keeps project names apart even when they read alike', () => {
    expect(projectKey('git@host:a/b.git')).not.toBe(projectKey('git@host:a-b.git'));
    expect(projectKey('https://example.com/x/y.git')).toMatch(/^[A-Za-z0-9._-]+-[0-9a-f]{12}$/);
  });
});

describe('LocalStore gc', () => {
  it('keeps the newest N checkpoints per project and the blobs they reference, removes the rest', async () => {
    const store = await newStore();
    const shared = await store.putBlob(Buffer.from('shared'));
    const oldOnly = await store.putBlob(Buffer.from('old only'));
    const newOnly = await store.putBlob(Buffer.from('new only'));
    const stray = await store.putBlob(Buffer.from('referenced by nothing'));
    const other = await store.putBlob(Buffer.from('other project'));
    await store.putCheckpoint(manifest('proj', '2024-01-01T00:00:00.000Z', [shared, oldOnly]));
    const kept = await store.putCheckpoint(manifest('proj', '2024-02-01T00:00:00.000Z', [shared, newOnly]));
    const otherRef = await store.putCheckpoint(manifest('other', '2023-01-01T00:00:00.000Z', [other]));
    await ageBlobs(store);

    const result = await store.gc({ keep: 1, project: 'proj' });
    expect(result).toMatchObject({ checkpointsRemoved: 1, blobsRemoved: 2 });
    expect(result.bytesFreed).toBe('old only'.length + 'referenced by nothing'.length);
    expect((await store.loadCheckpoints()).map(loadedId).sort()).toEqual([kept.id, otherRef.id].sort());
    for (const hash of [shared, newOnly, other]) await expect(store.verifyBlob(hash)).resolves.toBeUndefined();
    for (const hash of [oldOnly, stray]) expect(await store.hasBlob(hash)).toBe(false);
  });

  it("prunes one project: its checkpoints beyond keep and the blobs only they name, reading no other project's records", async () => {
    const store = await newStore();
    const shared = await store.putBlob(Buffer.from('shared with another project'));
    const oldOnly = await store.putBlob(Buffer.from('old only'));
    const oldTable = await store.putBlob(Buffer.from('old attachment'));
    const kept = await store.putBlob(Buffer.from('in the kept checkpoint too'));
    const stray = await store.putBlob(Buffer.from('named by no checkpoint'));
    const old = { ...manifest('proj', '2024-01-01T00:00:00.000Z', [shared, oldOnly, kept]), attachments: { 'p.table': oldTable } };
    await store.putCheckpoint(old);
    const newest = await store.putCheckpoint(manifest('proj', '2024-02-01T00:00:00.000Z', [kept]));
    const other = await store.putCheckpoint(manifest('other', '2023-01-01T00:00:00.000Z', [shared]));
    // Another project's manifest that fails the schema still protects the blobs it names.
    const odd = await store.putBlob(Buffer.from('named by an odd manifest'));
    await store.putCheckpoint({ ...manifest('proj', '2023-06-01T00:00:00.000Z', [odd]) });
    await store.putCheckpoint({ ...manifest('third', '2023-06-01T00:00:00.000Z', []), data: { note: odd } });
    await ageBlobs(store);

    const result = await store.prune('proj', 1);
    expect(result).toMatchObject({ checkpointsRemoved: 2, blobsRemoved: 2 });
    expect(result.bytesFreed).toBe('old only'.length + 'old attachment'.length);
    expect((await store.loadCheckpoints('proj')).map(loadedId)).toEqual([newest.id]);
    expect((await store.loadCheckpoints('other')).map(loadedId)).toEqual([other.id]);
    for (const hash of [shared, kept, stray, odd]) expect(await store.hasBlob(hash)).toBe(true);
    for (const hash of [oldOnly, oldTable]) expect(await store.hasBlob(hash)).toBe(false);
    expect(await store.prune('proj', 1)).toEqual({ checkpointsRemoved: 0, blobsRemoved: 0, bytesFreed: 0 });
  });

  it('prunes no blob that a capture in progress stored or reused', async () => {
    const store = await newStore();
    const reused = await store.putBlob(Buffer.from('reused by the capture in progress'));
    const path = blobPath(store, reused);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(path, old, old);
    await store.putCheckpoint(manifest('proj', '2024-01-01T00:00:00.000Z', [reused]));
    await store.putCheckpoint(manifest('proj', '2024-02-01T00:00:00.000Z', []));
    const done = await store.beginWrite();
    expect(await store.putBlob(Buffer.from('reused by the capture in progress'))).toBe(reused);
    expect(await store.prune('proj', 1)).toMatchObject({ checkpointsRemoved: 1, blobsRemoved: 0 });
    expect(await store.hasBlob(reused)).toBe(true);
    await done();
  });

  it("keeps a kept checkpoint's attachments and removes those of a removed one", async () => {
    const store = await newStore();
    const oldTable = await store.putBlob(Buffer.from('{"old":"table"}'));
    const newTable = await store.putBlob(Buffer.from('{"new":"table"}'));
    await store.putCheckpoint({ ...manifest('proj', '2024-01-01T00:00:00.000Z', []), attachments: { 'plugin.table': oldTable } });
    await store.putCheckpoint({ ...manifest('proj', '2024-02-01T00:00:00.000Z', []), attachments: { 'plugin.table': newTable } });
    await ageBlobs(store);
    expect(await store.gc({ keep: 1, project: 'proj' })).toMatchObject({ checkpointsRemoved: 1, blobsRemoved: 1 });
    await expect(store.verifyBlob(newTable)).resolves.toBeUndefined();
    expect(await store.hasBlob(oldTable)).toBe(false);
  });

  it('keeps blobs written while a capture is in progress, and removes them once it ended without a manifest', async () => {
    const store = await newStore();
    const before = await store.putBlob(Buffer.from('written before the capture began'));
    const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);
    await utimes(blobPath(store, before), minutesAgo(20), minutesAgo(20));

    // A capture that began ten minutes ago and wrote a blob five minutes ago: kept by its marker alone.
    const end = await store.beginWrite();
    const [marker] = (await readdir(join(store.location, 'tmp'))).filter((n) => n.startsWith('capture-'));
    await utimes(join(store.location, 'tmp', marker as string), minutesAgo(10), minutesAgo(10));
    const during = await store.putBlob(Buffer.from('written by the capture'));
    await utimes(blobPath(store, during), minutesAgo(5), minutesAgo(5));
    const first = await store.gc({ keep: 1 });
    expect(first.blobsRemoved).toBe(1);
    expect(await store.hasBlob(before)).toBe(false);
    expect(await store.hasBlob(during)).toBe(true);

    await end();
    const second = await store.gc({ keep: 1 });
    expect(second.blobsRemoved).toBe(1);
    expect(await store.hasBlob(during)).toBe(false);
  });

  it('treats a capture marker older than a day as a crashed run', async () => {
    const store = await newStore();
    await store.beginWrite(); // never ended
    const [marker] = (await readdir(join(store.location, 'tmp'))).filter((n) => n.startsWith('capture-'));
    const longAgo = new Date(Date.now() - 25 * 3_600_000);
    await utimes(join(store.location, 'tmp', marker as string), longAgo, longAgo);
    const blob = await store.putBlob(Buffer.from('orphan'));
    await ageBlobs(store);
    expect((await store.gc({ keep: 1 })).blobsRemoved).toBe(1);
    expect(await store.hasBlob(blob)).toBe(false);
    // And gc removes the marker.
    expect(await readdir(join(store.location, 'tmp'))).toEqual([]);
  });
});

describe('LocalStore gc and prune beside captures', () => {
  it('keepBlob refreshes the time of a blob that is present and says false for one that is absent', async () => {
    const store = await newStore();
    const hash = await store.putBlob(Buffer.from('reused unread'));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(blobPath(store, hash), old, old);
    expect(await store.keepBlob(hash)).toBe(true);
    expect((await stat(blobPath(store, hash))).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    expect(await store.keepBlob(sha256('never stored'))).toBe(false);
  });

  it('keeps an unreferenced blob touched in the last seconds: a capture not listed yet may name it', async () => {
    const store = await newStore();
    const fresh = await store.putBlob(Buffer.from('just written'));
    const stale = await store.putBlob(Buffer.from('written long ago'));
    const past = new Date(Date.now() - 60_000);
    await utimes(blobPath(store, stale), past, past);
    expect(await store.gc({ keep: 1 })).toMatchObject({ blobsRemoved: 1 });
    expect(await store.hasBlob(fresh)).toBe(true);
    expect(await store.hasBlob(stale)).toBe(false);
  });

  it('puts back a blob that a capture refreshed between the stat and the removal', async () => {
    const store = await newStore();
    const hash = await store.putBlob(Buffer.from('refreshed meanwhile'));
    const path = blobPath(store, hash);
    const old = new Date(Date.now() - 3_600_000);
    await utimes(path, old, old);
    const seen = (await stat(path)).mtimeMs;
    expect(await store.keepBlob(hash)).toBe(true); // the capture's refresh, after gc's stat
    expect(removeBlobUnlessRefreshed(path, join(store.location, 'tmp', 'aside'), seen)).toBe(false);
    await expect(store.verifyBlob(hash)).resolves.toBeUndefined();
    expect(await tempFiles(store)).toEqual([]);

    // Not refreshed: removed, and nothing left aside.
    const now = (await stat(path)).mtimeMs;
    expect(removeBlobUnlessRefreshed(path, join(store.location, 'tmp', 'aside'), now)).toBe(true);
    expect(await store.hasBlob(hash)).toBe(false);
    expect(await tempFiles(store)).toEqual([]);
  });

  it('keeps a manifest that fails its schema (a newer format), does not count it, and keeps every hash its text names', async () => {
    const store = await newStore();
    const named = await store.putBlob(Buffer.from('named by a newer format only'));
    const inData = await store.putBlob(Buffer.from('named in a field this version does not know'));
    const stray = await store.putBlob(Buffer.from('named by nothing'));
    await store.putCheckpoint(manifest('proj', '2024-01-01T00:00:00.000Z', []));
    const kept = await store.putCheckpoint(manifest('proj', '2024-02-01T00:00:00.000Z', []));
    const newer = `${JSON.stringify({ ...manifest('proj', '2025-01-01T00:00:00.000Z', [named]), schema: 99, objects: [inData] })}\n`;
    const newerFile = join(store.location, 'checkpoints', projectKey('proj'), `${sha256(newer)}.json`);
    await writeFile(newerFile, newer);
    await ageBlobs(store);

    // keep 1 counts the two valid manifests only: the older one goes, the newer format stays.
    expect(await store.gc({ keep: 1 })).toMatchObject({ checkpointsRemoved: 1, blobsRemoved: 1 });
    expect(await readFile(newerFile, 'utf8')).toBe(newer);
    expect((await store.loadCheckpoints('proj')).flatMap((l) => (l.error === undefined ? [l.ref.id] : []))).toEqual([kept.id]);
    for (const hash of [named, inData]) expect(await store.hasBlob(hash)).toBe(true);
    expect(await store.hasBlob(stray)).toBe(false);
  });

  it("prunes neither a newer format's manifest of the project nor the blobs it names, and does not count it", async () => {
    const store = await newStore();
    const named = await store.putBlob(Buffer.from('named by a newer format only'));
    const old = await store.putCheckpoint(manifest('proj', '2024-01-01T00:00:00.000Z', []));
    const newer = `${JSON.stringify({ ...manifest('proj', '2023-01-01T00:00:00.000Z', [named]), schema: 99 })}\n`;
    const newerFile = join(store.location, 'checkpoints', projectKey('proj'), `${sha256(newer)}.json`);
    await writeFile(newerFile, newer);
    await store.putCheckpoint(manifest('proj', '2024-02-01T00:00:00.000Z', []));
    await ageBlobs(store);
    expect(await store.prune('proj', 1)).toMatchObject({ checkpointsRemoved: 1, blobsRemoved: 0 });
    expect(await readFile(newerFile, 'utf8')).toBe(newer);
    expect((await store.loadCheckpoints('proj')).some((l) => loadedId(l) === old.id)).toBe(false);
    expect(await store.hasBlob(named)).toBe(true);
  });

  it('removes no blob when a manifest cannot be read at all', async () => {
    const store = await newStore();
    const stray = await store.putBlob(Buffer.from('named by nothing readable'));
    await store.putCheckpoint(manifest('proj', '2024-01-01T00:00:00.000Z', [stray]));
    await store.putCheckpoint(manifest('proj', '2024-02-01T00:00:00.000Z', []));
    // A directory where a manifest should be: reading it fails (EISDIR).
    await mkdir(join(store.location, 'checkpoints', projectKey('other'), `${sha256('x')}.json`), { recursive: true });
    await ageBlobs(store);
    expect(await store.gc({ keep: 1 })).toMatchObject({ checkpointsRemoved: 1, blobsRemoved: 0 });
    expect(await store.hasBlob(stray)).toBe(true);
  });

  it('prunes no blob when another manifest cannot be read at all', async () => {
    const store = await newStore();
    const old = await store.putBlob(Buffer.from('named by the old checkpoint'));
    await store.putCheckpoint(manifest('proj', '2024-01-01T00:00:00.000Z', [old]));
    await store.putCheckpoint(manifest('proj', '2024-02-01T00:00:00.000Z', []));
    await mkdir(join(store.location, 'checkpoints', projectKey('other'), `${sha256('x')}.json`), { recursive: true });
    await ageBlobs(store);
    expect(await store.prune('proj', 1)).toMatchObject({ checkpointsRemoved: 1, blobsRemoved: 0 });
    expect(await store.hasBlob(old)).toBe(true);
  });

  it('sweeps temporary files older than an hour and capture markers older than a day, and nothing newer', async () => {
    const store = await newStore();
    const tmp = join(store.location, 'tmp');
    const hoursAgo = (n: number) => new Date(Date.now() - n * 3_600_000);
    const files: Record<string, Date> = {
      '123-stale': hoursAgo(2),
      '123-fresh': hoursAgo(0.5),
      'capture-123-stale': hoursAgo(25),
      'capture-123-recent': hoursAgo(2),
    };
    for (const [name, time] of Object.entries(files)) {
      await writeFile(join(tmp, name), 'left over');
      await utimes(join(tmp, name), time, time);
    }
    await store.gc({ keep: 1 });
    expect((await readdir(tmp)).sort()).toEqual(['123-fresh', 'capture-123-recent']);
  });

  it('says a blob removed since it was verified is missing when it is copied, naming it', async () => {
    const store = await newStore();
    const hash = sha256('gone');
    const error = await storeError(store.copyBlobTo(hash, join(store.location, '..', 'dest')));
    expect(error).toMatchObject({ code: 'ERR_STORE', exitCode: 3 });
    expect(error.message).toContain(`${blobPath(store, hash)}: blob is missing`);
  });
});

describe('LocalStore.open', () => {
  it('opens a store that cannot be created (below a regular file) as an empty read-only store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orchestrate-store-'));
    await writeFile(join(dir, 'file'), '');
    const root = join(dir, 'file', 'store');
    const store = await LocalStore.open(root);
    expect(store.readOnlyReason).toMatch(/^it cannot be written: ENOTDIR/);
    expect(await store.loadCheckpoints()).toEqual([]);
    expect(await store.hasBlob(sha256('x'))).toBe(false);
    expect(await store.keepBlob(sha256('x'))).toBe(false);
  });

  it('refuses every write to a read-only store with a store error naming the store and what was refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orchestrate-store-'));
    await writeFile(join(dir, 'file'), '');
    const root = join(dir, 'file', 'store');
    const store = await LocalStore.open(root);
    const attempts: [string, Promise<unknown>][] = [
      ['write a blob', store.putBlob(Buffer.from('x'))],
      ['write a checkpoint', store.putCheckpoint(manifest('proj', '2024-01-01T00:00:00.000Z', []))],
      ['begin a capture', store.beginWrite()],
      ['prune checkpoints', store.prune('proj', 1)],
      ['collect garbage', store.gc({ keep: 1 })],
    ];
    for (const [what, attempt] of attempts) {
      const error = await storeError(attempt);
      expect(error).toMatchObject({ code: 'ERR_STORE', exitCode: 3 });
      expect(error.message).toBe(`${root}: the store is read-only, cannot ${what} (${store.readOnlyReason})`);
    }
  });
});
