/**
 * What every remote does the same way, over a content-addressed transport:
 * packing, the pack index, the order of uploads, the checks of everything
 * downloaded, signatures and scopes. A remote supplies its transport (blobs by
 * SHA-256) and its pointers (OCI tags, action-cache entries) that name a
 * checkpoint's manifest and pack index.
 */
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { parseCheckpointManifest, type CheckpointManifest } from '../../checkpoint/manifest.js';
import { sha256 } from '../../sources/hash.js';
import { canDecompress, preferredCompression } from './compression.js';
import {
  checkPackIndex,
  DEFAULT_PACK_SIZE,
  jsonBytes,
  manifestBlobs,
  PACK_INDEX_SCHEMA,
  packIndexSchema,
  planPacks,
  unpackPack,
  writePack,
  type PackEntry,
  type PackIndex,
} from './pack.js';
import {
  RemoteError,
  type FetchResult,
  type FetchTarget,
  type LoadedRemoteCheckpoint,
  type PushResult,
  type PushSource,
  type RemoteCheckpointInfo,
  type RemoteCheckpointQuery,
  type RemoteStore,
  type RemoteStoreOptions,
  type TransferOptions,
} from './remote-store.js';
import { checkSignature, signCheckpoint, type CheckpointSignature } from './signature.js';
import { isValidScope } from './scope.js';

/** Largest checkpoint manifest accepted from a remote. */
export const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;
/** Largest pack index accepted from a remote. */
export const MAX_PACK_INDEX_BYTES = 256 * 1024 * 1024;
/** Bound of a blob whose size the manifest does not record (attachments, dead blobs of reused packs). */
const MAX_UNSIZED_BLOB = 16 * 1024 * 1024 * 1024;

/** What a pointer (a tag, an action-cache entry) says of one checkpoint. */
export interface CheckpointPointer {
  /** SHA-256 of the manifest's bytes, which the transport stores under that digest. */
  readonly id: string;
  /** SHA-256 of the pack index's bytes. */
  readonly packIndex: string;
  readonly scope: string;
  readonly createdAt: string;
  readonly signature: CheckpointSignature | undefined;
}

/** A checkpoint being written: everything its pointer names is on the remote already. */
export interface NewPointer extends CheckpointPointer {
  readonly project: string;
  readonly fingerprint: Readonly<Record<string, string>>;
  /** Bytes of the manifest and the pack index. */
  readonly manifestSize: number;
  readonly packIndexSize: number;
  /** Every pack of the checkpoint. */
  readonly packs: readonly PackEntry[];
}

/** The base of {@link OciStore} and {@link HttpCacheStore}; see the module's comment. */
export abstract class PackedRemoteStore implements RemoteStore {
  readonly readOnlyReason: string | undefined;
  protected readonly options: RemoteStoreOptions;
  readonly #verifyKeys: readonly KeyObject[];

  constructor(options: RemoteStoreOptions) {
    this.options = options;
    this.readOnlyReason = options.readWrite === true ? undefined : 'the remote is read-only (pass --remote-mode read-write to write to it)';
    this.#verifyKeys = options.verifyKeys ?? [];
  }

  abstract describe(): string;
  /** Pointers of checkpoints matching the query, newest first. */
  protected abstract listPointers(query: RemoteCheckpointQuery): Promise<RemoteCheckpointInfo[]>;
  /** The pointer an info names. */
  protected abstract readPointer(info: RemoteCheckpointInfo): Promise<CheckpointPointer>;
  /** Writes the pointer of a checkpoint whose blobs are all uploaded; returns where it lives. */
  protected abstract writePointer(pointer: NewPointer): Promise<string>;
  protected abstract hasBlob(digest: string): Promise<boolean>;
  /** Reads a small blob (a manifest, a pack index) and checks its digest. */
  protected abstract readBlob(digest: string, max: number, what: string): Promise<Buffer>;
  /** Downloads a blob to `file`, checking its size and digest; `onBytes` counts progress. */
  protected abstract downloadBlob(
    digest: string,
    size: number,
    file: string,
    onBytes: (n: number) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Uploads a blob from bytes or a file; returns the bytes sent. */
  protected abstract uploadBlob(digest: string, content: Buffer | { file: string; size: number }, signal?: AbortSignal): Promise<number>;

  protected get timeoutMs(): number {
    return this.options.timeoutMs ?? 30_000;
  }

  protected get transferTimeoutMs(): number {
    return this.options.transferTimeoutMs ?? 600_000;
  }

  protected debug(message: string): void {
    this.options.debug?.(message);
  }

  /** Runs `work`, turning any failure into a RemoteError that names what was being done. */
  protected async guard<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof RemoteError) throw error;
      throw new RemoteError(this.describe(), `${what}: ${(error as Error).message}`, { cause: error });
    }
  }

  async findCheckpoints(query: RemoteCheckpointQuery): Promise<RemoteCheckpointInfo[]> {
    for (const scope of query.scopes) if (!isValidScope(scope)) throw new RemoteError(this.describe(), `invalid scope '${scope}'`);
    if (query.scopes.length === 0) return [];
    return this.guard('cannot list checkpoints', async () => {
      const found = await this.listPointers(query);
      return found.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    });
  }

  async loadCheckpoint(info: RemoteCheckpointInfo): Promise<LoadedRemoteCheckpoint> {
    return this.guard(`checkpoint ${info.id.slice(0, 12)} (${info.location}) refused`, async () => {
      const pointer = await this.readPointer(info);
      if (pointer.id !== info.id) throw new Error(`its pointer names manifest ${pointer.id.slice(0, 12)}, not ${info.id.slice(0, 12)}`);
      if (pointer.scope !== info.scope) throw new Error(`it was written by scope '${pointer.scope}', not '${info.scope}'`);
      let signedBy: string | undefined;
      if (this.#verifyKeys.length > 0) {
        const refusal = checkSignature(this.#verifyKeys, pointer.id, pointer.scope, pointer.signature);
        if (refusal !== undefined) throw new Error(refusal);
        signedBy = pointer.signature?.keyId;
      }
      const bytes = await this.readBlob(pointer.id, MAX_MANIFEST_BYTES, 'the checkpoint manifest');
      const text = bytes.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new Error(`its manifest is not valid JSON (${(error as Error).message})`);
      }
      const parsed = parseCheckpointManifest(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(
          `its manifest fails the schema${issue && issue.path.length > 0 ? ` at '${issue.path.join('.')}'` : ''}: ${issue?.message ?? 'invalid'}`,
        );
      }
      if (parsed.data.project !== info.project)
        throw new Error(`its manifest is of project '${parsed.data.project}', not '${info.project}'`);
      if (parsed.data.scope !== undefined && parsed.data.scope !== pointer.scope) {
        throw new Error(`its manifest was written by scope '${parsed.data.scope}', but it is listed under '${pointer.scope}'`);
      }
      return { info, manifest: parsed.data, text, signedBy };
    });
  }

  async fetchCheckpoint(
    checkpoint: RemoteCheckpointInfo | LoadedRemoteCheckpoint,
    into: FetchTarget,
    options: TransferOptions = {},
  ): Promise<FetchResult> {
    const loaded = 'manifest' in checkpoint ? checkpoint : await this.loadCheckpoint(checkpoint);
    const { info, manifest } = loaded;
    return this.guard(`cannot fetch checkpoint ${info.id.slice(0, 12)}`, async () => {
      const pointer = await this.readPointer(info);
      const indexBytes = await this.readBlob(pointer.packIndex, MAX_PACK_INDEX_BYTES, 'the pack index');
      const { packOf } = checkPackIndex(JSON.parse(indexBytes.toString('utf8')), info.id, manifest);
      const blobs = manifestBlobs(manifest);
      const sizeOf = new Map(blobs.map((blob) => [blob.hash, blob.size]));
      const limit = pLimit(16);
      const missing = (
        await Promise.all(blobs.map((blob) => limit(async () => ((await into.hasBlob(blob.hash)) ? [] : [blob.hash]))))
      ).flat();
      // The packs to download, and which of their blobs each is to write.
      const packs = new Map<string, { pack: PackEntry; wanted: Set<string> }>();
      for (const hash of missing) {
        const pack = packOf.get(hash)!;
        const entry = packs.get(pack.digest) ?? { pack, wanted: new Set<string>() };
        entry.wanted.add(hash);
        packs.set(pack.digest, entry);
      }
      const allPacks = new Set([...packOf.values()].map((pack) => pack.digest)).size;
      for (const { pack } of packs.values()) {
        if (!canDecompress(pack.compression))
          throw new Error(
            `pack ${pack.digest.slice(0, 12)} is ${pack.compression}-compressed, which cannot be read here (install the optional zstd-napi)`,
          );
      }
      const total = [...packs.values()].reduce((n, { pack }) => n + pack.size, 0);
      let done = 0;
      const staging = await mkdtemp(join(this.options.tempDir ?? tmpdir(), 'orchestrate-fetch-'));
      try {
        // Every pack is downloaded and its digest checked before any blob is written.
        const transfers = pLimit(this.options.concurrency ?? 4);
        await Promise.all(
          [...packs.values()].map(({ pack }) =>
            transfers(async () => {
              await this.downloadBlob(
                pack.digest,
                pack.size,
                join(staging, pack.digest),
                (n) => {
                  done += n;
                  options.onProgress?.({ direction: 'down', done, total });
                },
                options.signal,
              );
            }),
          ),
        );
        let blobsWritten = 0;
        const unpacks = pLimit(2);
        await Promise.all(
          [...packs.values()].map(({ pack, wanted }) =>
            unpacks(async () => {
              const expected = new Map(pack.blobs.map((hash) => [hash, sizeOf.get(hash)]));
              try {
                const written = await unpackPack(
                  join(staging, pack.digest),
                  pack.compression,
                  { expected, wanted, maxBlobSize: MAX_UNSIZED_BLOB },
                  into,
                  staging,
                );
                blobsWritten += written;
              } catch (error) {
                throw new Error(`pack ${pack.digest.slice(0, 12)}: ${(error as Error).message}`, { cause: error });
              }
            }),
          ),
        );
        const ref = await into.putCheckpoint(manifest);
        if (ref.id !== info.id)
          this.debug(`checkpoint ${info.id.slice(0, 12)} stored locally as ${ref.id.slice(0, 12)} (another key order)`);
        return { ref, bytesDown: done, packsDown: packs.size, packsTotal: allPacks, blobsWritten };
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    });
  }

  async pushCheckpoint(manifest: CheckpointManifest, from: PushSource, scope: string, options: TransferOptions = {}): Promise<PushResult> {
    if (this.readOnlyReason !== undefined) throw new RemoteError(this.describe(), `cannot push: ${this.readOnlyReason}`);
    if (!isValidScope(scope)) throw new RemoteError(this.describe(), `cannot push: invalid scope '${scope}'`);
    return this.guard('cannot push the checkpoint', async () => {
      const manifestBytes = jsonBytes(manifest);
      const id = sha256(manifestBytes);
      const blobs = manifestBlobs(manifest);
      // The scope's newest checkpoint: its packs that are still mostly alive are reused.
      const previous = await this.#previousIndex(manifest, scope);
      const existing = new Map<string, boolean>();
      const exists = async (digest: string): Promise<boolean> => {
        const known = existing.get(digest);
        if (known !== undefined) return known;
        const present = await this.hasBlob(digest);
        existing.set(digest, present);
        return present;
      };
      const packSize = this.options.packSize ?? DEFAULT_PACK_SIZE;
      let plan = planPacks(blobs, previous, packSize);
      const reused = plan.flatMap((item) => ('reuse' in item ? [item.reuse] : []));
      const limit = pLimit(8);
      const gone = new Set(
        (await Promise.all(reused.map((pack) => limit(async () => ((await exists(pack.digest)) ? [] : [pack.digest]))))).flat(),
      );
      if (gone.size > 0 && previous !== undefined) {
        // Packs removed from the remote since (a registry's garbage collection): their blobs are packed anew.
        plan = planPacks(blobs, { ...previous, packs: previous.packs.filter((pack) => !gone.has(pack.digest)) }, packSize);
      }
      const compression = preferredCompression(this.options.env);
      const staging = await mkdtemp(join(this.options.tempDir ?? tmpdir(), 'orchestrate-push-'));
      let bytesUp = 0;
      let packsUp = 0;
      try {
        const packs: PackEntry[] = [];
        const transfers = pLimit(Math.min(this.options.concurrency ?? 4, 2));
        let done = 0;
        await Promise.all(
          plan.map((item, i) =>
            transfers(async () => {
              if ('reuse' in item) {
                packs[i] = item.reuse;
                return;
              }
              const file = join(staging, `pack-${i}`);
              const pack = await writePack(item.blobs, from, file, compression);
              packs[i] = pack;
              if (!(await exists(pack.digest))) {
                // Not `bytesUp += await …`: that reads bytesUp before the await, and packs upload two at a time.
                const sent = await this.uploadBlob(pack.digest, { file, size: pack.size }, options.signal);
                bytesUp += sent;
                packsUp++;
                existing.set(pack.digest, true);
                done += pack.size;
                options.onProgress?.({ direction: 'up', done, total: done });
              }
              await rm(file, { force: true });
            }),
          ),
        );
        const index: PackIndex = { schema: PACK_INDEX_SCHEMA, checkpoint: id, packs };
        const indexBytes = jsonBytes(index);
        const indexDigest = sha256(indexBytes);
        if (!(await exists(indexDigest))) bytesUp += await this.uploadBlob(indexDigest, indexBytes, options.signal);
        if (!(await exists(id))) bytesUp += await this.uploadBlob(id, manifestBytes, options.signal);
        const signature = this.options.signingKey === undefined ? undefined : signCheckpoint(this.options.signingKey, id, scope);
        // Last: the pointer, once everything it names is there.
        const location = await this.writePointer({
          id,
          packIndex: indexDigest,
          scope,
          createdAt: manifest.createdAt,
          signature,
          project: manifest.project,
          fingerprint: manifest.fingerprint,
          manifestSize: manifestBytes.length,
          packIndexSize: indexBytes.length,
          packs,
        });
        return { location, id, bytesUp, packsUp, packsTotal: packs.length };
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    });
  }

  /** The pack index of the scope's newest checkpoint, or undefined (none, or unreadable: then everything is packed anew). */
  async #previousIndex(manifest: CheckpointManifest, scope: string): Promise<PackIndex | undefined> {
    try {
      const [newest] = await this.findCheckpoints({ project: manifest.project, fingerprint: manifest.fingerprint, scopes: [scope] });
      if (newest === undefined) return undefined;
      const pointer = await this.readPointer(newest);
      const bytes = await this.readBlob(pointer.packIndex, MAX_PACK_INDEX_BYTES, 'the pack index');
      const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
      const index = packIndexSchema.safeParse(parsed);
      return index.success ? index.data : undefined;
    } catch (error) {
      this.debug(`no previous pack index: ${(error as Error).message}`);
      return undefined;
    }
  }
}
