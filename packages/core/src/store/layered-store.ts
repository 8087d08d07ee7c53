/**
 * Stores in layers: the local store on top (the cache, where new checkpoints
 * are written) and read-only stores below it (`--store-from DIR`: a previous
 * build's output in Nix, a mounted or downloaded cache). Lookups see every
 * layer's checkpoints; a blob is read from the first layer that has it, and
 * every read verifies it against its hash.
 *
 * What a lower layer serves is written through to the top store (only what it
 * lacks), so the top store alone holds everything its checkpoints name. In
 * place (`inPlace`, as Nix chains checkpoint outputs), nothing is copied: a new
 * checkpoint in the top store names the lower layers' blobs, and later builds
 * must be given the same layers.
 */
import type { CheckpointManifest, CheckpointRef } from '../checkpoint/manifest.js';
import type { LocalStore } from './local-store.js';
import type { CheckpointStore, GcResult, LoadedCheckpoint, PutFileOptions } from './store.js';

export interface LayeredStoreOptions {
  /** Where new checkpoints go; may be read-only itself. */
  readonly top: LocalStore;
  /** Read-only stores below it, searched in order. */
  readonly lower: readonly LocalStore[];
  /** Leave what the lower layers hold in place instead of copying it into the top store. */
  readonly inPlace?: boolean;
}

export class LayeredStore implements CheckpointStore {
  readonly #top: LocalStore;
  readonly #lower: readonly LocalStore[];
  readonly #inPlace: boolean;

  constructor(options: LayeredStoreOptions) {
    this.#top = options.top;
    this.#lower = options.lower;
    this.#inPlace = options.inPlace === true;
  }

  get location(): string {
    return this.#top.location;
  }

  get readOnlyReason(): string | undefined {
    return this.#top.readOnlyReason;
  }

  /** The stores searched, top first. */
  get layers(): readonly LocalStore[] {
    return [this.#top, ...this.#lower];
  }

  /** The first lower layer holding `hash`, when the top store does not. */
  async #lowerWith(hash: string): Promise<LocalStore | undefined> {
    if (await this.#top.hasBlob(hash)) return undefined;
    for (const layer of this.#lower) if (await layer.hasBlob(hash)) return layer;
    return undefined;
  }

  /** Copies a verified blob of `layer` into the top store, when it takes writes and copies are wanted. */
  async #writeThrough(layer: LocalStore, hash: string): Promise<void> {
    if (this.#inPlace || this.#top.readOnlyReason !== undefined) return;
    await layer.verifyBlob(hash);
    const stored = await this.#top.putFile(layer.blobFile(hash));
    // The bytes changed between the check and the copy: the top store keeps what it hashed, under its own name.
    if (stored !== hash) await layer.verifyBlob(hash);
  }

  async hasBlob(hash: string): Promise<boolean> {
    return (await this.#top.hasBlob(hash)) || (await this.#lowerWith(hash)) !== undefined;
  }

  async keepBlob(hash: string): Promise<boolean> {
    if (await this.#top.keepBlob(hash)) return true;
    // In place, a blob of a lower layer is as good as one of the top store: the chain keeps it.
    return this.#inPlace && (await this.#lowerWith(hash)) !== undefined;
  }

  putBlob(content: Buffer): Promise<string> {
    return this.#top.putBlob(content);
  }

  async putFile(path: string, options?: PutFileOptions): Promise<string> {
    return this.#top.putFile(path, options);
  }

  async readBlob(hash: string): Promise<Buffer> {
    const layer = await this.#lowerWith(hash);
    if (!layer) return this.#top.readBlob(hash);
    const content = await layer.readBlob(hash);
    if (!this.#inPlace && this.#top.readOnlyReason === undefined) await this.#top.putBlob(content);
    return content;
  }

  async verifyBlob(hash: string): Promise<void> {
    const layer = await this.#lowerWith(hash);
    if (!layer) return this.#top.verifyBlob(hash);
    await layer.verifyBlob(hash);
    await this.#writeThrough(layer, hash);
  }

  async copyBlobTo(hash: string, dest: string): Promise<void> {
    const layer = await this.#lowerWith(hash);
    if (!layer) return this.#top.copyBlobTo(hash, dest);
    return layer.copyBlobTo(hash, dest);
  }

  putCheckpoint(manifest: CheckpointManifest): Promise<CheckpointRef> {
    return this.#top.putCheckpoint(manifest);
  }

  /** Every layer's checkpoints, each once (the top store's copy first), newest first. */
  async loadCheckpoints(project?: string): Promise<LoadedCheckpoint[]> {
    const all = await Promise.all(this.layers.map((layer) => layer.loadCheckpoints(project)));
    const seen = new Set<string>();
    const out: LoadedCheckpoint[] = [];
    for (const [index, loaded] of all.entries()) {
      const layer = this.layers[index] as LocalStore;
      for (const item of loaded) {
        if (item.error !== undefined) {
          out.push(item);
          continue;
        }
        if (seen.has(item.ref.id)) continue;
        seen.add(item.ref.id);
        out.push(index === 0 ? item : { ...item, ref: { ...item.ref, origin: layer.location } });
      }
    }
    return out.sort((a, b) => {
      const ta = a.error === undefined ? a.ref.createdAt : '';
      const tb = b.error === undefined ? b.ref.createdAt : '';
      return ta < tb ? 1 : ta > tb ? -1 : 0;
    });
  }

  deleteCheckpoint(ref: CheckpointRef): Promise<void> {
    return this.#top.deleteCheckpoint(ref);
  }

  countCheckpoints(project: string): Promise<number> {
    return this.#top.countCheckpoints(project);
  }

  /** The top store's; the lower layers are never changed. */
  gc(options: { keep: number; project?: string }): Promise<GcResult> {
    return this.#top.gc(options);
  }

  prune(project: string, keep: number): Promise<GcResult> {
    // In place, the top store's checkpoints name the lower layers' blobs: its own prune sees only its own.
    return this.#top.prune(project, keep);
  }

  /** The top store's checkpoints only: the lower layers are never changed. */
  touchCheckpoint(ref: CheckpointRef): Promise<void> {
    return this.#top.touchCheckpoint(ref);
  }

  /** The top store's; in place, its checkpoints name lower blobs it does not count. */
  trim(maxBytes: number, keep: readonly string[]): Promise<GcResult & { bytesAfter: number }> {
    return this.#top.trim(maxBytes, keep);
  }

  beginWrite(): Promise<() => Promise<void>> {
    return this.#top.beginWrite();
  }
}
