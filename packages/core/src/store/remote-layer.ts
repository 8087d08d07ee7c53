/**
 * The remote as the bottom layer of a run's stores: lookups try the local
 * store, then the read-only layers (see layered-store.ts), then the remote. A
 * remote checkpoint is checked (see remote/remote-store.ts), then written
 * through to the local store (only the blobs it lacks), and restored from
 * there as any local one. A saved checkpoint is pushed under the build's own
 * scope when the remote is writable.
 *
 * A remote that fails, times out, serves damaged bytes or refuses a push is a
 * miss: a warning with the reason, the reason in {@link RemoteLayer.error},
 * never a failed build.
 */
import type { CheckpointManifest, CheckpointRef } from '../checkpoint/manifest.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResolvedConfig } from '../config/schema.js';
import { openRemoteStore } from './remote/open-remote.js';
import type { FetchTarget, LoadedRemoteCheckpoint, PushResult, PushSource, RemoteStore } from './remote/remote-store.js';
import { readableScopes } from './remote/scope.js';
import { loadKeys } from './remote/signature.js';

/** Remote checkpoints whose manifests a lookup downloads to pick the closest, newest first. */
export const REMOTE_CANDIDATES = 3;

export interface RemoteLayerOptions {
  readonly remote: RemoteStore;
  /** The build's own scope (the only one it writes), or undefined: it reads the trusted scopes and writes nothing. */
  readonly scope: string | undefined;
  readonly trustedScopes: readonly string[];
  /** Where misses are reported (warnings) and the transfers logged. */
  readonly logger: Logger;
  readonly signal?: AbortSignal | undefined;
}

/** A run's remote, with what it moved and why it failed; see the module's comment. */
export class RemoteLayer {
  readonly remote: RemoteStore;
  readonly scope: string | undefined;
  /** The scopes read, the build's own first. */
  readonly scopes: readonly string[];
  readonly #logger: Logger;
  readonly #signal: AbortSignal | undefined;
  /** Bytes downloaded (compressed packs). */
  bytesDown = 0;
  /** Bytes uploaded (packs, pack index, manifest). */
  bytesUp = 0;
  /** Why the remote served or took nothing (the last reason), or null. */
  error: string | null = null;

  constructor(options: RemoteLayerOptions) {
    this.remote = options.remote;
    this.scope = options.scope;
    this.scopes = readableScopes(options.scope, options.trustedScopes);
    this.#logger = options.logger;
    this.#signal = options.signal;
  }

  describe(): string {
    return this.remote.describe();
  }

  /** Why nothing is pushed (read-only mode, no scope), or undefined when saves are pushed. */
  get pushRefusal(): string | undefined {
    if (this.remote.readOnlyReason !== undefined) return this.remote.readOnlyReason;
    if (this.scope === undefined) return 'this build has no scope to write (pass --scope, or run in CI)';
    return undefined;
  }

  #miss(reason: string): void {
    this.error = reason;
    this.#logger.warn(`remote: ${reason}`);
  }

  /** Runs `work`; any failure is a miss (printed, recorded) and gives undefined. Interruptions propagate. */
  async #try<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      if (this.#signal?.aborted) throw error;
      this.#miss(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  /**
   * The remote's checkpoints of `project` with exactly `fingerprint` in the
   * readable scopes, newest first, at most {@link REMOTE_CANDIDATES}, each
   * manifest downloaded and checked (id, schema, scope, signature); one
   * refused is skipped with the reason printed. Empty when the remote fails.
   */
  async candidates(project: string, fingerprint: Readonly<Record<string, string>>): Promise<LoadedRemoteCheckpoint[]> {
    const found = await this.#try(() => this.remote.findCheckpoints({ project, fingerprint, scopes: this.scopes }));
    if (found === undefined) return [];
    this.#logger.debug(`${found.length} checkpoints in scopes ${this.scopes.join(', ') || '(none)'}`);
    if (found.length === 0) {
      this.error ??= `no checkpoint of this fingerprint in scopes ${this.scopes.map((s) => `'${s}'`).join(', ')}`;
      return [];
    }
    const loaded: LoadedRemoteCheckpoint[] = [];
    for (const info of found.slice(0, REMOTE_CANDIDATES)) {
      const one = await this.#try(() => this.remote.loadCheckpoint(info));
      if (one !== undefined) loaded.push(one);
    }
    return loaded;
  }

  /** Downloads `checkpoint` into `into` (the blobs it lacks, then the manifest); its local ref, or undefined on a miss. */
  async fetch(checkpoint: LoadedRemoteCheckpoint, into: FetchTarget): Promise<CheckpointRef | undefined> {
    const result = await this.#try(() => this.remote.fetchCheckpoint(checkpoint, into, this.#signal ? { signal: this.#signal } : {}));
    if (result === undefined) return undefined;
    this.bytesDown += result.bytesDown;
    this.#logger.info(
      `fetched checkpoint ${result.ref.id.slice(0, 12)} (scope '${checkpoint.info.scope}') from ${this.describe()}: ${result.packsDown} of ${result.packsTotal} packs, ${result.bytesDown} bytes`,
    );
    return result.ref;
  }

  /**
   * Pushes `manifest` (its blobs read from `from`) under the build's scope;
   * undefined on a miss, and when pushes are refused ({@link pushRefusal}).
   * A checkpoint another scope wrote is never pushed under this one.
   */
  async push(manifest: CheckpointManifest, from: PushSource): Promise<PushResult | undefined> {
    const refusal = this.pushRefusal;
    if (refusal !== undefined || this.scope === undefined) {
      this.#miss(`not pushed: ${refusal}`);
      return undefined;
    }
    const scope = this.scope;
    if (manifest.scope !== undefined && manifest.scope !== scope) {
      this.#miss(`not pushed: the checkpoint was written by scope '${manifest.scope}', and this build writes only '${scope}'`);
      return undefined;
    }
    const result = await this.#try(() => this.remote.pushCheckpoint(manifest, from, scope, this.#signal ? { signal: this.#signal } : {}));
    if (result === undefined) return undefined;
    this.bytesUp += result.bytesUp;
    this.#logger.info(
      `pushed checkpoint ${result.id.slice(0, 12)} to ${this.describe()} as scope '${scope}': ${result.packsUp} of ${result.packsTotal} packs, ${result.bytesUp} bytes`,
    );
    return result;
  }
}

/**
 * The config's remote, or undefined when none is configured. Keys are loaded
 * here: a key file that cannot be read or parsed is a ConfigError, as a URL
 * that names no remote is. Nothing is sent yet.
 */
export function openRemoteLayer(
  config: Pick<ResolvedConfig, 'remote' | 'remoteMode' | 'scope' | 'trustedScopes' | 'signingKeyFile' | 'verifyKeys'>,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
  signal?: AbortSignal,
): RemoteLayer | undefined {
  if (config.remote === undefined) return undefined;
  let keys: ReturnType<typeof loadKeys>;
  let remote: RemoteStore;
  try {
    keys = loadKeys(env, { signingKeyFile: config.signingKeyFile, verifyKeys: config.verifyKeys });
    remote = openRemoteStore(config.remote, {
      readWrite: config.remoteMode === 'read-write',
      signingKey: keys.signingKey,
      verifyKeys: keys.verifyKeys,
      env,
      debug: (message) => logger.debug(message),
    });
  } catch (error) {
    throw new ConfigError((error as Error).message, undefined, {
      cause: error,
      hint: 'see docs/remote-stores.md for remote URLs and keys',
    });
  }
  if (keys.verifyKeys.length > 0) logger.debug(`${keys.verifyKeys.length} verification keys: unsigned checkpoints are ignored`);
  return new RemoteLayer({ remote, scope: config.scope?.scope, trustedScopes: config.trustedScopes, logger, signal });
}
