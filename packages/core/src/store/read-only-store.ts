/**
 * A read-only view of a store, for runs that must leave it as it was
 * (`verify`): reads pass through, every write throws a StoreError naming the
 * store, and nothing refreshes a blob's time.
 */
import type { CheckpointManifest, CheckpointRef } from '../checkpoint/manifest.js';
import { StoreError } from '../errors.js';
import type { CheckpointStore, GcResult, LoadedCheckpoint } from './store.js';

export class ReadOnlyStore implements CheckpointStore {
  readonly #inner: CheckpointStore;
  readonly readOnlyReason: string;

  /** `why` says who asked for it, for the warning of a write refused. */
  constructor(inner: CheckpointStore, why: string) {
    this.#inner = inner;
    this.readOnlyReason = why;
  }

  get location(): string {
    return this.#inner.location;
  }

  #refuse(what: string): never {
    throw new StoreError(this.location, `the store is read-only, cannot ${what} (${this.readOnlyReason})`);
  }

  hasBlob(hash: string): Promise<boolean> {
    return this.#inner.hasBlob(hash);
  }
  /** Reports presence without refreshing the blob's time. */
  keepBlob(hash: string): Promise<boolean> {
    return this.#inner.hasBlob(hash);
  }
  putBlob(_content: Buffer): Promise<string> {
    return this.#refuse('store a blob');
  }
  putFile(path: string): Promise<string> {
    return this.#refuse(`store '${path}'`);
  }
  readBlob(hash: string): Promise<Buffer> {
    return this.#inner.readBlob(hash);
  }
  copyBlobTo(hash: string, dest: string): Promise<void> {
    return this.#inner.copyBlobTo(hash, dest);
  }
  verifyBlob(hash: string): Promise<void> {
    return this.#inner.verifyBlob(hash);
  }
  putCheckpoint(_manifest: CheckpointManifest): Promise<CheckpointRef> {
    return this.#refuse('save a checkpoint');
  }
  loadCheckpoints(project?: string): Promise<LoadedCheckpoint[]> {
    return this.#inner.loadCheckpoints(project);
  }
  deleteCheckpoint(ref: CheckpointRef): Promise<void> {
    return this.#refuse(`delete checkpoint ${ref.id.slice(0, 12)}`);
  }
  countCheckpoints(project: string): Promise<number> {
    return this.#inner.countCheckpoints(project);
  }
  gc(_options: { keep: number; project?: string }): Promise<GcResult> {
    return this.#refuse('collect garbage');
  }
  prune(project: string, _keep: number): Promise<GcResult> {
    return this.#refuse(`prune the checkpoints of '${project}'`);
  }
  /** Records nothing: the store is left as it was. */
  async touchCheckpoint(_ref: CheckpointRef): Promise<void> {}
  trim(_maxBytes: number): Promise<GcResult & { bytesAfter: number }> {
    return this.#refuse('trim the store');
  }
  beginWrite(): Promise<() => Promise<void>> {
    return this.#refuse('begin a write');
  }
}
