/**
 * The interface the layered store calls to share checkpoints through a
 * remote: an OCI registry (`oci://`, see oci-store.ts) or a Bazel-style HTTP
 * cache (`http(s)://`, see http-cache-store.ts).
 *
 * A remote is untrusted. Everything it serves is checked before it is used:
 * the checkpoint manifest against its id (the SHA-256 of its bytes) and the
 * manifest schema, its scope against the scopes asked for, its signature
 * against the verification keys when some are configured, every pack against
 * its digest before it is unpacked, and every blob against its SHA-256 before
 * it reaches the local store. A remote that fails, times out or serves damaged
 * bytes throws a {@link RemoteError}; the layer turns it into a miss with the
 * error's message printed, never into a failed build.
 */
import type { KeyObject } from 'node:crypto';
import type { CheckpointManifest, CheckpointRef } from '../../checkpoint/manifest.js';
import { ExitCode, OrchestrateError, type OrchestrateErrorOptions } from '../../errors.js';

/** What a lookup asks a remote for: the checkpoints of one project and fingerprint, written by one of `scopes`. */
export interface RemoteCheckpointQuery {
  readonly project: string;
  /** The build's keyed fingerprint; only checkpoints with exactly this fingerprint are listed. */
  readonly fingerprint: Readonly<Record<string, string>>;
  /** The build's own scope and its trusted scopes (see scope.ts); checkpoints of other scopes are never listed. */
  readonly scopes: readonly string[];
}

/**
 * A checkpoint a remote lists, known from its tag or its index entry alone
 * (nothing downloaded yet). Not trusted: {@link RemoteStore.loadCheckpoint}
 * checks that the manifest it names matches.
 */
export interface RemoteCheckpointInfo {
  /** SHA-256 of the checkpoint manifest's bytes: the local store's checkpoint id. */
  readonly id: string;
  readonly project: string;
  /** The scope that wrote it (one of the query's scopes). */
  readonly scope: string;
  /** When it was written (ISO 8601), as its tag or index entry says; newest first in listings. */
  readonly createdAt: string;
  /** Where the remote keeps it (a tag, an index key), for messages. */
  readonly location: string;
}

/** A checkpoint manifest downloaded and checked: digest, schema, project, scope and (when keys are configured) signature. */
export interface LoadedRemoteCheckpoint {
  readonly info: RemoteCheckpointInfo;
  readonly manifest: CheckpointManifest;
  /** The manifest's exact bytes (their SHA-256 is `info.id`). */
  readonly text: string;
  /** The id of the key that signed it, when it is signed by a configured key. */
  readonly signedBy: string | undefined;
}

/** The part of the local store a fetch writes into (a LocalStore fits). */
export interface FetchTarget {
  /** Where the target lives, for messages. */
  readonly location: string;
  hasBlob(hash: string): Promise<boolean>;
  /** Stores a buffer, returns the hash of the bytes stored. */
  putBlob(content: Buffer): Promise<string>;
  /** Stores a file's content, returns the hash of the bytes stored. */
  putFile(path: string, options?: { likelyPresent?: boolean }): Promise<string>;
  putCheckpoint(manifest: CheckpointManifest): Promise<CheckpointRef>;
}

/** The part of the local store a push reads from (a LocalStore fits). */
export interface PushSource {
  readonly location: string;
  /** Reads a blob and verifies its hash. */
  readBlob(hash: string): Promise<Buffer>;
}

/**
 * Progress of a transfer, in bytes of packs (compressed). A download knows its
 * `total` before the first byte moves; an upload learns it pack by pack.
 */
export interface TransferProgress {
  readonly direction: 'down' | 'up';
  readonly done: number;
  readonly total: number;
}

/** Options of a fetch or a push. */
export interface TransferOptions {
  /** Called as bytes move, at most a few times a second per pack. */
  readonly onProgress?: (progress: TransferProgress) => void;
  /** Aborts the transfer (Ctrl-C). */
  readonly signal?: AbortSignal;
}

export interface FetchResult {
  readonly ref: CheckpointRef;
  /** Bytes of packs downloaded (compressed). */
  readonly bytesDown: number;
  /** Packs downloaded, of the packs the checkpoint has. */
  readonly packsDown: number;
  readonly packsTotal: number;
  /** Blobs written into the target (those it lacked). */
  readonly blobsWritten: number;
}

export interface PushResult {
  /** Where the remote keeps the checkpoint now (a tag, an index key). */
  readonly location: string;
  /** The checkpoint's id (SHA-256 of the manifest's bytes). */
  readonly id: string;
  /** Bytes uploaded: packs, the manifest and the pack index. */
  readonly bytesUp: number;
  /** Packs uploaded, of the packs the checkpoint has (the rest were on the remote already). */
  readonly packsUp: number;
  readonly packsTotal: number;
}

/**
 * A remote checkpoint store. Implementations: {@link OciStore} and
 * {@link HttpCacheStore}, made from a URL by `openRemoteStore`.
 */
export interface RemoteStore {
  /** The remote for messages, without credentials: `oci://ghcr.io/acme/ci-cache`. */
  describe(): string;
  /** Why the remote cannot be written (read-only mode), or undefined when it can. */
  readonly readOnlyReason: string | undefined;
  /**
   * The checkpoints of `query.project` with exactly `query.fingerprint`, written
   * by one of `query.scopes`, newest first. Cheap: from tags or one index entry
   * per scope, no manifest is downloaded. Throws a {@link RemoteError}.
   */
  findCheckpoints(query: RemoteCheckpointQuery): Promise<RemoteCheckpointInfo[]>;
  /**
   * Downloads one checkpoint's manifest and checks it (digest, schema, project,
   * scope, signature). Throws a {@link RemoteError} (a refusal: unsigned, wrongly
   * signed, damaged) with the reason.
   */
  loadCheckpoint(info: RemoteCheckpointInfo): Promise<LoadedRemoteCheckpoint>;
  /**
   * Writes a checkpoint into `into`: downloads only the packs holding blobs it
   * lacks (in parallel, bounded), verifies each pack's digest, then every blob
   * against its SHA-256, and writes the blobs and last the manifest. A damaged
   * pack is caught before any blob is written. Throws a {@link RemoteError}.
   */
  fetchCheckpoint(
    checkpoint: RemoteCheckpointInfo | LoadedRemoteCheckpoint,
    into: FetchTarget,
    options?: TransferOptions,
  ): Promise<FetchResult>;
  /**
   * Uploads a checkpoint under `scope`: packs the remote lacks (a rolling
   * checkpoint reuses the packs of the scope's newest one), the pack index,
   * the manifest, and last the tag or index entry that names them, so a push
   * cut short leaves nothing pointing at missing data. Signs it when a signing
   * key is configured. Throws a {@link RemoteError}, also when read-only.
   */
  pushCheckpoint(manifest: CheckpointManifest, from: PushSource, scope: string, options?: TransferOptions): Promise<PushResult>;
}

/** Options every remote takes. */
export interface RemoteStoreOptions {
  /** Pushes allowed (`--remote-mode read-write`). @default false */
  readonly readWrite?: boolean;
  /** Signs pushed checkpoints. */
  readonly signingKey?: KeyObject | undefined;
  /** When non-empty, checkpoints not signed by one of these keys are refused. */
  readonly verifyKeys?: readonly KeyObject[];
  /** Largest pack, in bytes of blobs before compression. @default 64 MiB */
  readonly packSize?: number;
  /** Packs transferred at once. @default 4 */
  readonly concurrency?: number;
  /** Time allowed for one small request (a lookup, a manifest, a tag), in ms. @default 30000 */
  readonly timeoutMs?: number;
  /** Time allowed for one pack's whole transfer, in ms. @default 600000 */
  readonly transferTimeoutMs?: number;
  /** Where packs are staged on their way (default: the OS's temporary directory). */
  readonly tempDir?: string;
  /** Environment for credentials (`ORCHESTRATE_REGISTRY_*`, `DOCKER_CONFIG`). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Debug output. */
  readonly debug?: (message: string) => void;
  /** Checkpoints kept per project, fingerprint and scope in an HTTP cache's index. @default 10 */
  readonly keep?: number;
}

/**
 * A remote failed, timed out, served damaged or refused data, or was asked to
 * write while read-only. Not fatal: the layer prints it and goes on without
 * the remote.
 */
export class RemoteError extends OrchestrateError {
  /** The remote, as {@link RemoteStore.describe} gives it. */
  readonly remote: string;
  constructor(remote: string, message: string, options?: OrchestrateErrorOptions) {
    super('ERR_REMOTE', `${remote}: ${message}`, ExitCode.Store, options);
    this.name = 'RemoteError';
    this.remote = remote;
  }
}
