import type { CheckpointManifest, CheckpointRef } from '../checkpoint/manifest.js';

/** A checkpoint read back from a store, or the reason it could not be. */
export type LoadedCheckpoint =
  | { readonly ref: CheckpointRef; readonly manifest: CheckpointManifest; readonly error?: undefined }
  | { readonly file: string; readonly error: string };

/** Result of a garbage collection. */
export interface GcResult {
  readonly checkpointsRemoved: number;
  readonly blobsRemoved: number;
  readonly bytesFreed: number;
}

/** Options of {@link CheckpointStore.putFile}. */
export interface PutFileOptions {
  /** The file's bytes were probably stored before: hash it first, so a blob present costs no copy. */
  likelyPresent?: boolean;
  /** Sees the bytes hashed, chunk by chunk, from offset 0. */
  scan?: (chunk: Buffer, offset: number) => void;
}

/**
 * A content-addressed checkpoint store. Blobs are keyed by the SHA-256 of
 * their bytes; checkpoint ids are the SHA-256 of the manifest's bytes. Reads
 * verify both.
 */
export interface CheckpointStore {
  /** Where the store lives, for messages. */
  readonly location: string;
  /**
   * Why the store cannot be written (e.g. a read-only mount), or undefined
   * when it can. A read-only store restores; its writes throw a StoreError.
   */
  readonly readOnlyReason?: string | undefined;
  hasBlob(hash: string): Promise<boolean>;
  /**
   * Marks a blob present as in use by a capture in progress (refreshes its
   * time), so a concurrent `gc` or `prune` keeps it; false when it is absent,
   * and the caller stores the content anew. Cheap: for every file a capture
   * reuses unread.
   */
  keepBlob(hash: string): Promise<boolean>;
  /** Stores `content` and returns its hash; a blob already present is not written again. */
  putBlob(content: Buffer): Promise<string>;
  /**
   * Stores the content of the file at `path` and returns its hash, without
   * loading it whole; a blob already present is not written again. The hash
   * is of the bytes stored, read back from the store's own copy. `likelyPresent`
   * (a file whose bytes were probably stored before) hashes the file first, so
   * a blob present costs no copy; otherwise it is copied first, so a new file
   * is read once less. `scan`, when given, sees the stored bytes as the hash
   * reads them, in order from offset 0 (again from 0 when the file is read a
   * second time), so a caller inspects a file without reading it again; a store
   * that does not call it leaves the caller to read the file itself.
   */
  putFile(path: string, options?: PutFileOptions): Promise<string>;
  /** Reads a blob and verifies its hash; a mismatch throws a StoreError naming the blob. */
  readBlob(hash: string): Promise<Buffer>;
  /**
   * Copies a verified blob to a new file `dest` (copy-on-write where the file
   * system can); fails when something is there (never writes through a link).
   */
  copyBlobTo(hash: string, dest: string): Promise<void>;
  /** Verifies a blob against its hash without returning it; a mismatch throws a StoreError naming the blob. */
  verifyBlob(hash: string): Promise<void>;
  putCheckpoint(manifest: CheckpointManifest): Promise<CheckpointRef>;
  /** Every checkpoint of `project` (of all projects when omitted), newest first; unreadable ones carry an error. */
  loadCheckpoints(project?: string): Promise<LoadedCheckpoint[]>;
  deleteCheckpoint(ref: CheckpointRef): Promise<void>;
  /** How many checkpoints `project` has, without reading them. */
  countCheckpoints(project: string): Promise<number>;
  /**
   * Keeps the newest `keep` checkpoints per project (or of `project` only) and
   * removes unreferenced blobs, and left-overs of crashed runs. A manifest that
   * cannot be parsed is kept and not counted, and every hash its text names is
   * kept; when a manifest cannot be read at all, no blob is removed.
   */
  gc(options: { keep: number; project?: string }): Promise<GcResult>;
  /**
   * After a capture: removes `project`'s checkpoints beyond the newest `keep`
   * and the blobs no other checkpoint names, without reading the rest of the
   * store as `gc` does. Blobs no checkpoint names at all (an interrupted
   * capture's) are left to `gc`.
   */
  prune(project: string, keep: number): Promise<GcResult>;
  /**
   * Records that `ref` was just used (restored), for {@link trim}'s least
   * recently used order: the manifest file's time. Never fails: a store that
   * cannot record it (read-only, the checkpoint elsewhere) keeps its order.
   */
  touchCheckpoint(ref: CheckpointRef): Promise<void>;
  /**
   * Bounds the store's size: removes the least recently used checkpoints (of
   * every project; saved or restored last, see {@link touchCheckpoint}) and
   * the blobs no remaining checkpoint names, until the store's blobs and
   * manifests take at most `maxBytes`. The checkpoints of `keep` stay
   * whatever their size; blobs of captures in progress stay (as in `gc`).
   */
  trim(maxBytes: number, keep: readonly string[]): Promise<GcResult & { readonly bytesAfter: number }>;
  /** Marks a capture in progress, so a concurrent `gc` or `prune` keeps the blobs it writes or refreshes; returns its end. */
  beginWrite(): Promise<() => Promise<void>>;
}
