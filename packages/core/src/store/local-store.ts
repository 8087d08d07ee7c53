/**
 * The local store: a directory on disk.
 *
 *   <store>/objects/<ab>/<sha256>            blobs, uncompressed so restores can clone them
 *   <store>/checkpoints/<project-key>/<id>.json
 *   <store>/tmp/                              temporary files and capture markers
 *
 * Every write goes to a temporary file in tmp/ and is renamed into place, so
 * concurrent writers never leave a partial file under a final name. Nothing
 * is flushed to disk (1 to 4 ms a file, 18 ms seen for a manifest): every
 * read verifies, so a blob lost in a crash makes its checkpoint refused, and a
 * manifest torn by one no longer matches its id and is ignored with a
 * warning; a crash costs a checkpoint at worst, never a wrong build.
 *
 * Any number of processes may capture, prune and gc at once. A blob is
 * removed only when no manifest listed names it and its time is older than
 * both the removal's start and the oldest capture in progress (captures
 * refresh the time of every blob they reuse); it is renamed aside first and
 * put back when a capture refreshed it meanwhile. A store that cannot be
 * written opens read-only: it restores, and every write fails with a
 * StoreError saying so.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { access, copyFile, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { StoreError } from '../errors.js';
import { MANIFEST_SCHEMA_VERSION, parseCheckpointManifest, type CheckpointManifest, type CheckpointRef } from '../checkpoint/manifest.js';
import { sha256 } from '../sources/hash.js';
import type { CheckpointStore, GcResult, LoadedCheckpoint, PutFileOptions } from './store.js';

const HASH = /^[0-9a-f]{64}$/;
/** Every 64-hex string in a manifest's text: the blobs an unparsable manifest may name. */
const HASHES_IN_TEXT = /[0-9a-f]{64}/g;
/** Capture markers older than this are left-overs of crashed runs: ignored, and removed by gc. */
const STALE_MARKER_MS = 24 * 60 * 60 * 1000;
/** Other files in tmp/ older than this are left-overs of crashed writes: removed by gc. */
const STALE_TEMP_MS = 60 * 60 * 1000;
/** Margin for the clocks compared by `#protectedSince` (see there). */
const CLOCK_SLACK_MS = 2000;

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT';
}

/**
 * Removes the blob at `path` unless a capture refreshed its time since it was
 * seen with `seenMtimeMs`. The blob is renamed to `aside` (in the store's
 * tmp/) first, so a capture refreshing it from then on finds nothing and
 * writes it anew; a refresh that came before the rename shows in a second
 * stat, and the blob is put back. Returns whether the blob was removed.
 */
export function removeBlobUnlessRefreshed(path: string, aside: string, seenMtimeMs: number): boolean {
  try {
    renameSync(path, aside);
  } catch {
    return false; // gone already (another gc), or not ours to remove
  }
  const now = statSync(aside, { throwIfNoEntry: false });
  if (now && now.mtimeMs !== seenMtimeMs) {
    // A capture refreshed it between the stat and the rename: a manifest not listed names it.
    try {
      mkdirSync(dirname(path), { recursive: true });
      // Over a copy a capture may have written meanwhile: the same bytes.
      renameSync(aside, path);
    } catch {
      rmSync(aside, { force: true });
    }
    return false;
  }
  rmSync(aside, { force: true });
  return true;
}

/** The directory name of a project's checkpoints: readable, and unique through a hash. */
export function projectKey(project: string): string {
  const readable = project
    .replace(/^[a-z+]+:\/\//i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(-40);
  return `${readable || 'project'}-${sha256(project).slice(0, 12)}`;
}

/** One buffer for every verification read: fresh memory costs page faults (a stream allocates a chunk per read). */
let readBuffer: Buffer | undefined;

/** SHA-256 of a file in synchronous 1 MiB reads into one reused buffer; `scan` sees each chunk too. */
function hashFileSync(path: string, scan?: PutFileOptions['scan']): string {
  readBuffer ??= Buffer.allocUnsafe(1024 * 1024);
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    let offset = 0;
    for (let n = readSync(fd, readBuffer); n > 0; n = readSync(fd, readBuffer)) {
      const chunk = readBuffer.subarray(0, n);
      hash.update(chunk);
      scan?.(chunk, offset);
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** A store directory on disk; see the module's comment for its layout and its rules under concurrency. */
export class LocalStore implements CheckpointStore {
  readonly location: string;
  /** Why the store cannot be written (a read-only mount, a path below a regular file), or undefined when it can. */
  readonly readOnlyReason: string | undefined;
  private constructor(root: string, readOnlyReason: string | undefined) {
    this.location = root;
    this.readOnlyReason = readOnlyReason;
  }

  /**
   * Opens (and creates) the store at `root`. A store that cannot be written
   * opens read-only, with the reason in {@link LocalStore.readOnlyReason}; one
   * that does not exist and cannot be created opens as an empty read-only store.
   */
  static async open(root: string): Promise<LocalStore> {
    try {
      for (const dir of ['objects', 'checkpoints', 'tmp']) await mkdir(join(root, dir), { recursive: true });
      await access(join(root, 'tmp'), constants.W_OK);
      const probe = join(root, 'tmp', `probe-${process.pid}-${randomBytes(4).toString('hex')}`);
      await writeFile(probe, '');
      await unlink(probe);
    } catch (error) {
      return new LocalStore(root, `it cannot be written: ${(error as Error).message}`);
    }
    return new LocalStore(root, undefined);
  }

  /**
   * Opens the store at `root` for reading only, creating and changing nothing
   * there (a `--store-from` layer: a previous build's output in Nix, a mounted
   * cache): its blobs are not refreshed, and a damaged one is not removed.
   */
  static openReadOnly(root: string): LocalStore {
    return new LocalStore(root, 'it is a read-only layer');
  }

  /** Throws the StoreError of a write to a read-only store. */
  #assertWritable(what: string): void {
    if (this.readOnlyReason === undefined) return;
    throw new StoreError(this.location, `the store is read-only, cannot ${what} (${this.readOnlyReason})`, {
      hint: 'pass --store DIR or set ORCHESTRATE_STORE to a writable directory',
    });
  }

  /** Where the blob `hash` is (or would be) stored, for a layer above that imports it. */
  blobFile(hash: string): string {
    return this.#blobPath(hash);
  }

  #blobPath(hash: string): string {
    if (!HASH.test(hash)) throw new StoreError(this.location, `invalid blob hash '${hash}'`);
    return join(this.location, 'objects', hash.slice(0, 2), hash);
  }

  #tempPath(): string {
    return join(this.location, 'tmp', `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  async hasBlob(hash: string): Promise<boolean> {
    try {
      await stat(this.#blobPath(hash));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Refreshes the time of a blob that is present, so a concurrent gc or prune
   * keeps it; false when absent. Synchronous: one local syscall, on the hot
   * path of every capture.
   */
  #touch(dest: string): boolean {
    if (this.readOnlyReason !== undefined) return existsSync(dest);
    try {
      const now = new Date();
      utimesSync(dest, now, now);
      return true;
    } catch {
      return false;
    }
  }

  async keepBlob(hash: string): Promise<boolean> {
    return this.#touch(this.#blobPath(hash));
  }

  async putFile(path: string, options: PutFileOptions = {}): Promise<string> {
    this.#assertWritable(`store '${path}'`);
    if (options.likelyPresent === true) {
      // Hashed first through the reused buffer: a blob present already costs no copy.
      const known = hashFileSync(path, options.scan);
      if (this.#touch(this.#blobPath(known))) return known;
    }
    const temp = this.#tempPath();
    try {
      // A kernel copy, then the copy's own hash: the blob is named after what was stored.
      await copyFile(path, temp);
      const hash = hashFileSync(temp, options.scan);
      const dest = this.#blobPath(hash);
      if (this.#touch(dest)) {
        await rm(temp, { force: true });
        return hash;
      }
      await mkdir(join(this.location, 'objects', hash.slice(0, 2)), { recursive: true });
      await rename(temp, dest);
      return hash;
    } catch (error) {
      await rm(temp, { force: true });
      throw new StoreError(path, `cannot store file (${(error as Error).message})`, { cause: error });
    }
  }

  async putBlob(content: Buffer): Promise<string> {
    this.#assertWritable('write a blob');
    const hash = sha256(content);
    const dest = this.#blobPath(hash);
    if (this.#touch(dest)) return hash;
    const temp = this.#tempPath();
    try {
      await writeFile(temp, content);
      await mkdir(join(this.location, 'objects', hash.slice(0, 2)), { recursive: true });
      await rename(temp, dest);
    } catch (error) {
      await rm(temp, { force: true });
      throw new StoreError(dest, `cannot write blob (${(error as Error).message})`, { cause: error });
    }
    return hash;
  }

  async readBlob(hash: string): Promise<Buffer> {
    const path = this.#blobPath(hash);
    let content: Buffer;
    try {
      // Synchronous: one read of a local file, not a chain of thread-pool round trips.
      content = readFileSync(path);
    } catch (error) {
      throw new StoreError(path, `blob is missing (${(error as Error).message})`, { cause: error });
    }
    const actual = sha256(content);
    if (actual !== hash) throw await this.#damaged(path, actual);
    return content;
  }

  async copyBlobTo(hash: string, dest: string): Promise<void> {
    // Copy-on-write where the file system clones; node falls back to a copy elsewhere.
    // EXCL: a new file, never through a link at `dest`.
    const path = this.#blobPath(hash);
    try {
      await copyFile(path, dest, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
    } catch (error) {
      // Removed since it was verified (a concurrent gc): a store error, so the checkpoint is refused, not the run.
      if (!existsSync(path)) throw new StoreError(path, `blob is missing (${(error as Error).message})`, { cause: error });
      throw error;
    }
  }

  /** Verifies the blob's bytes against its hash without loading it whole. */
  async verifyBlob(hash: string): Promise<void> {
    const path = this.#blobPath(hash);
    let actual: string;
    try {
      actual = hashFileSync(path);
    } catch (error) {
      throw new StoreError(path, `blob is missing (${(error as Error).message})`, { cause: error });
    }
    if (actual !== hash) throw await this.#damaged(path, actual);
  }

  /**
   * Removes a blob whose bytes do not match its name and returns the error to
   * throw. `putBlob` trusts a blob present under its hash, so a damaged one
   * left in place would be referenced by every later checkpoint; removed, the
   * next capture writes it again. Blobs are renamed into place whole, so a
   * mismatch is damage, never a write in progress.
   */
  async #damaged(path: string, actual: string): Promise<StoreError> {
    const removed =
      this.readOnlyReason === undefined &&
      (await unlink(path).then(
        () => true,
        () => false,
      ));
    return new StoreError(
      path,
      `blob content does not match its hash (got ${actual})${removed ? '; the damaged blob was removed from the store' : ''}`,
    );
  }

  async putCheckpoint(manifest: CheckpointManifest): Promise<CheckpointRef> {
    this.#assertWritable('write a checkpoint');
    const json = `${JSON.stringify(manifest)}\n`;
    const id = sha256(json);
    const dir = join(this.location, 'checkpoints', projectKey(manifest.project));
    const temp = this.#tempPath();
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(temp, json);
      await rename(temp, join(dir, `${id}.json`));
    } catch (error) {
      await rm(temp, { force: true });
      throw new StoreError(dir, `cannot write checkpoint (${(error as Error).message})`, { cause: error });
    }
    return { id, project: manifest.project, createdAt: manifest.createdAt };
  }

  async loadCheckpoints(project?: string): Promise<LoadedCheckpoint[]> {
    const root = join(this.location, 'checkpoints');
    const dirs = project === undefined ? await readdir(root).catch(() => []) : [projectKey(project)];
    const files: string[] = [];
    for (const dir of dirs) {
      const names = await readdir(join(root, dir)).catch(() => [] as string[]);
      for (const name of names) if (name.endsWith('.json')) files.push(join(root, dir, name));
    }
    const limit = pLimit(16);
    const read = await Promise.all(files.map((file) => limit(() => this.#readManifest(file))));
    const loaded = read.flatMap((item) => (item === undefined ? [] : [item.loaded]));
    return loaded.sort((a, b) => {
      const ta = a.error === undefined ? a.ref.createdAt : '';
      const tb = b.error === undefined ? b.ref.createdAt : '';
      return ta < tb ? 1 : ta > tb ? -1 : 0;
    });
  }

  /**
   * Reads and checks one manifest file; `text` is absent when it could not be
   * read. Undefined when the file is gone: a concurrent prune or gc removed
   * it between the listing and the read, which is no damage.
   */
  async #readManifest(file: string): Promise<{ loaded: LoadedCheckpoint; text?: string } | undefined> {
    const id = file.slice(file.lastIndexOf('/') + 1, -'.json'.length);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      return { loaded: { file, error: `cannot read (${(error as Error).message})` } };
    }
    if (sha256(text) !== id) return { loaded: { file, error: 'content does not match its id (corrupted or edited)' }, text };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return { loaded: { file, error: `not valid JSON (${(error as Error).message})` }, text };
    }
    const parsed = parseCheckpointManifest(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at '${issue.path.join('.')}'` : '';
      return { loaded: { file, error: `fails the manifest schema${where}: ${issue?.message ?? 'invalid'}` }, text };
    }
    const manifest = parsed.data;
    return { loaded: { ref: { id, project: manifest.project, createdAt: manifest.createdAt }, manifest }, text };
  }

  async deleteCheckpoint(ref: CheckpointRef): Promise<void> {
    this.#assertWritable('delete a checkpoint');
    await rm(join(this.location, 'checkpoints', projectKey(ref.project), `${ref.id}.json`), { force: true });
  }

  async countCheckpoints(project: string): Promise<number> {
    const names = await readdir(join(this.location, 'checkpoints', projectKey(project))).catch(() => [] as string[]);
    return names.filter((name) => name.endsWith('.json')).length;
  }

  async beginWrite(): Promise<() => Promise<void>> {
    this.#assertWritable('begin a capture');
    // <store>/tmp/capture-<pid>-<random>: its time is when the capture began.
    const marker = join(this.location, 'tmp', `capture-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await writeFile(marker, '');
    } catch (error) {
      throw new StoreError(marker, `cannot mark a capture in progress (${(error as Error).message})`, { cause: error });
    }
    return async () => {
      await rm(marker, { force: true });
    };
  }

  async prune(project: string, keep: number): Promise<GcResult> {
    this.#assertWritable('prune checkpoints');
    // Before anything is listed: a capture that ends while the manifests are read has its blobs kept by time.
    const protectAfter = this.#protectedSince();
    // Synchronous: a few dozen small local reads and stats on every save, each a thread-pool
    // round trip otherwise (~15 ms for cmark's six checkpoints).
    const root = join(this.location, 'checkpoints');
    const dir = join(root, projectKey(project));
    // Anything that cannot be listed or read, but for files gone meanwhile, may name any blob:
    // then no blob is removed.
    let complete = true;
    const list = (at: string): string[] => {
      try {
        return readdirSync(at);
      } catch (error) {
        if (!isMissing(error)) complete = false;
        return [];
      }
    };
    const read = (file: string): string | undefined => {
      try {
        return readFileSync(file, 'utf8');
      } catch (error) {
        if (!isMissing(error)) complete = false;
        return undefined;
      }
    };
    const own: { file: string; createdAt: string; writtenMs: number; blobs: string[] }[] = [];
    for (const name of list(dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(dir, name);
      // Parsed, not validated: only the order and the blob names are read, and a blob is removed
      // only when no manifest's text names it.
      let json: unknown;
      try {
        json = JSON.parse(read(file) ?? '');
      } catch {
        continue;
      }
      if (typeof json !== 'object' || json === null) continue;
      const { schema, createdAt, state, attachments } = json as {
        schema?: unknown;
        createdAt?: unknown;
        state?: unknown;
        attachments?: unknown;
      };
      // Another format (a newer orchestrate's) is neither counted nor removed, as gc does; its text protects its blobs.
      if (schema !== MANIFEST_SCHEMA_VERSION || typeof createdAt !== 'string') continue;
      const blobs: string[] = [];
      for (const record of Object.values(typeof state === 'object' && state !== null ? state : {})) {
        const blob = (record as { blob?: unknown } | null)?.blob;
        if (typeof blob === 'string' && HASH.test(blob)) blobs.push(blob);
      }
      for (const blob of Object.values(typeof attachments === 'object' && attachments !== null ? attachments : {})) {
        if (typeof blob === 'string' && HASH.test(blob)) blobs.push(blob);
      }
      // Equal createdAt (SOURCE_DATE_EPOCH makes it fixed): the file written last is the newest.
      const writtenMs = statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      own.push({ file, createdAt, writtenMs, blobs });
    }
    own.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.writtenMs - a.writtenMs));
    const removed = own.slice(keep);
    if (removed.length === 0) return { checkpointsRemoved: 0, blobsRemoved: 0, bytesFreed: 0 };
    for (const { file } of removed) rmSync(file, { force: true });
    const candidates = new Set(removed.flatMap((item) => item.blobs));
    // Every manifest left in the store, of every project, as text: a blob named anywhere stays.
    for (const projectDir of list(root)) {
      if (candidates.size === 0 || !complete) break;
      for (const name of list(join(root, projectDir))) {
        if (!name.endsWith('.json')) continue;
        const text = read(join(root, projectDir, name)) ?? '';
        for (const blob of candidates) if (text.includes(blob)) candidates.delete(blob);
      }
    }
    if (!complete) return { checkpointsRemoved: removed.length, blobsRemoved: 0, bytesFreed: 0 };
    let blobsRemoved = 0;
    let bytesFreed = 0;
    for (const blob of candidates) {
      const path = this.#blobPath(blob);
      const info = statSync(path, { throwIfNoEntry: false });
      if (!info || info.mtimeMs >= protectAfter) continue;
      if (!removeBlobUnlessRefreshed(path, this.#tempPath(), info.mtimeMs)) continue;
      blobsRemoved++;
      bytesFreed += info.size;
    }
    return { checkpointsRemoved: removed.length, blobsRemoved, bytesFreed };
  }

  async touchCheckpoint(ref: CheckpointRef): Promise<void> {
    if (this.readOnlyReason !== undefined) return;
    // The manifest's mtime, not its atime: reads leave it alone under any mount option, and
    // `prune` orders by `createdAt` first, so only equal ones (flat times) see it.
    const now = new Date();
    try {
      utimesSync(join(this.location, 'checkpoints', projectKey(ref.project), `${ref.id}.json`), now, now);
    } catch {
      // Not in this store (a lower layer's), or removed meanwhile: nothing to record.
    }
  }

  async trim(maxBytes: number, keep: readonly string[]): Promise<GcResult & { bytesAfter: number }> {
    this.#assertWritable('trim the store');
    // Before anything is listed, as in prune: blobs of captures in progress are kept by time.
    const protectAfter = this.#protectedSince();
    let complete = true;
    const list = (at: string): string[] => {
      try {
        return readdirSync(at);
      } catch (error) {
        if (!isMissing(error)) complete = false;
        return [];
      }
    };
    // Synchronous, as prune: one stat per blob, only when a bound is set.
    // <store>/objects/<ab>/<sha256>
    const blobs = new Map<string, { size: number; mtimeMs: number }>();
    let total = 0;
    const objects = join(this.location, 'objects');
    for (const prefix of list(objects)) {
      for (const name of list(join(objects, prefix))) {
        const info = statSync(join(objects, prefix, name), { throwIfNoEntry: false });
        if (!info || !HASH.test(name)) continue;
        blobs.set(name, { size: info.size, mtimeMs: info.mtimeMs });
        total += info.size;
      }
    }
    // Every manifest, with the blobs its text names and when it was last used.
    const kept = new Set(keep);
    const manifests: { file: string; size: number; usedMs: number; blobs: Set<string>; removable: boolean }[] = [];
    const root = join(this.location, 'checkpoints');
    for (const dir of list(root)) {
      for (const name of list(join(root, dir))) {
        if (!name.endsWith('.json')) continue;
        const file = join(root, dir, name);
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (error) {
          if (!isMissing(error)) complete = false;
          continue;
        }
        const info = statSync(file, { throwIfNoEntry: false });
        if (!info) continue;
        let ours = false;
        try {
          ours = (JSON.parse(text) as { schema?: unknown }).schema === MANIFEST_SCHEMA_VERSION;
        } catch {
          ours = false;
        }
        total += info.size;
        // Another format (a newer orchestrate's) or a damaged file is kept, and protects every hash its text names.
        const removable = ours && !kept.has(name.slice(0, -'.json'.length));
        manifests.push({ file, size: info.size, usedMs: info.mtimeMs, blobs: new Set(text.match(HASHES_IN_TEXT) ?? []), removable });
      }
    }
    const result = { checkpointsRemoved: 0, blobsRemoved: 0, bytesFreed: 0, bytesAfter: total };
    if (total <= maxBytes || !complete) return result;
    const named = new Map<string, number>();
    for (const manifest of manifests) for (const blob of manifest.blobs) named.set(blob, (named.get(blob) ?? 0) + 1);
    const removeBlob = (hash: string): void => {
      const blob = blobs.get(hash);
      if (!blob || blob.mtimeMs >= protectAfter) return;
      if (!removeBlobUnlessRefreshed(this.#blobPath(hash), this.#tempPath(), blob.mtimeMs)) return;
      blobs.delete(hash);
      result.blobsRemoved++;
      result.bytesFreed += blob.size;
      total -= blob.size;
    };
    // Blobs no checkpoint names first (an interrupted capture's), then checkpoints, least recently used first.
    for (const hash of [...blobs.keys()]) if (!named.has(hash)) removeBlob(hash);
    const order = manifests.filter((manifest) => manifest.removable).sort((a, b) => a.usedMs - b.usedMs);
    for (const manifest of order) {
      if (total <= maxBytes) break;
      rmSync(manifest.file, { force: true });
      result.checkpointsRemoved++;
      result.bytesFreed += manifest.size;
      total -= manifest.size;
      for (const hash of manifest.blobs) {
        const left = (named.get(hash) ?? 1) - 1;
        named.set(hash, left);
        if (left === 0) removeBlob(hash);
      }
    }
    result.bytesAfter = total;
    return result;
  }

  /**
   * The time (ms) from which a blob's time protects it from removal: the
   * earlier of this removal's start and the start of the oldest capture in
   * progress, less a margin. Taken before any manifest is listed, so a
   * capture that began before is protected by its marker, and one that began
   * since (and may have saved a manifest not listed) by the times of the
   * blobs it wrote or refreshed. The margin covers the clocks compared: a
   * marker's and a renamed blob's time are the kernel's (coarse, perhaps
   * another machine's), a refreshed blob's is `Date.now()` in whole ms.
   * Synchronous: a handful of local stats, on every save's prune.
   */
  #protectedSince(): number {
    const now = Date.now();
    let oldest = now - CLOCK_SLACK_MS;
    const tmp = join(this.location, 'tmp');
    let names: string[];
    try {
      names = readdirSync(tmp);
    } catch {
      names = [];
    }
    for (const name of names) {
      if (!name.startsWith('capture-')) continue;
      const info = statSync(join(tmp, name), { throwIfNoEntry: false });
      if (info && now - info.mtimeMs < STALE_MARKER_MS) oldest = Math.min(oldest, info.mtimeMs - CLOCK_SLACK_MS);
    }
    return oldest;
  }

  /** Removes left-overs of crashed runs from tmp/: temporary files older than an hour, capture markers older than a day. */
  #sweepTemp(): void {
    const tmp = join(this.location, 'tmp');
    const now = Date.now();
    let names: string[];
    try {
      names = readdirSync(tmp);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(tmp, name);
      const info = statSync(path, { throwIfNoEntry: false });
      if (!info) continue;
      // A file being written has a fresh time; a blob set aside by another gc keeps its (old) time,
      // but that gc removes it anyway unless a capture refreshed it, which makes its time fresh.
      const stale = name.startsWith('capture-') ? STALE_MARKER_MS : STALE_TEMP_MS;
      if (now - info.mtimeMs > stale) rmSync(path, { force: true, recursive: info.isDirectory() });
    }
  }

  async gc(options: { keep: number; project?: string }): Promise<GcResult> {
    this.#assertWritable('collect garbage');
    // Before anything is listed: a capture that ends while the manifests are read has its blobs kept by time.
    const protectAfter = this.#protectedSince();
    this.#sweepTemp();
    const root = join(this.location, 'checkpoints');
    // Anything that cannot be listed or read, but for files gone meanwhile, may name any blob:
    // then no blob is removed.
    let complete = true;
    const list = async (at: string): Promise<string[]> =>
      readdir(at).catch((error: unknown) => {
        if (!isMissing(error)) complete = false;
        return [] as string[];
      });
    const files: string[] = [];
    for (const dir of await list(root)) {
      for (const name of await list(join(root, dir))) if (name.endsWith('.json')) files.push(join(root, dir, name));
    }
    const limit = pLimit(16);
    const read = (await Promise.all(files.map((file) => limit(() => this.#readManifest(file))))).filter((item) => item !== undefined);
    const byProject = new Map<string, CheckpointRef[]>();
    const referenced = new Set<string>();
    for (const { loaded, text } of read) {
      if (loaded.error === undefined) {
        const refs = byProject.get(loaded.ref.project) ?? [];
        refs.push(loaded.ref);
        byProject.set(loaded.ref.project, refs);
      } else if (text === undefined) {
        complete = false;
      } else {
        // Kept, not counted: perhaps a newer orchestrate's format. Whatever it names stays.
        for (const [hash] of text.matchAll(HASHES_IN_TEXT)) referenced.add(hash);
      }
    }
    const removed = new Set<string>();
    for (const [project, refs] of byProject) {
      if (options.project !== undefined && project !== options.project) continue;
      refs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
      for (const ref of refs.slice(options.keep)) {
        await this.deleteCheckpoint(ref);
        removed.add(ref.id);
      }
    }
    for (const { loaded } of read) {
      if (loaded.error !== undefined || removed.has(loaded.ref.id)) continue;
      for (const record of Object.values(loaded.manifest.state)) if (record.blob) referenced.add(record.blob);
      for (const blob of Object.values(loaded.manifest.attachments ?? {})) referenced.add(blob);
    }
    if (!complete) return { checkpointsRemoved: removed.size, blobsRemoved: 0, bytesFreed: 0 };
    let blobsRemoved = 0;
    let bytesFreed = 0;
    const objects = join(this.location, 'objects');
    for (const prefix of await readdir(objects).catch(() => [] as string[])) {
      for (const name of await readdir(join(objects, prefix)).catch(() => [] as string[])) {
        if (referenced.has(name)) continue;
        const path = join(objects, prefix, name);
        const info = statSync(path, { throwIfNoEntry: false });
        if (!info || info.mtimeMs >= protectAfter) continue;
        if (!removeBlobUnlessRefreshed(path, this.#tempPath(), info.mtimeMs)) continue;
        blobsRemoved++;
        bytesFreed += info.size;
      }
    }
    return { checkpointsRemoved: removed.size, blobsRemoved, bytesFreed };
  }
}
