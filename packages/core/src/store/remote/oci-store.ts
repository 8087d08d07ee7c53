/**
 * Checkpoints in an OCI registry (`oci://host[:port]/repository`, or
 * `oci+http://` for a registry without TLS: loopback, or when the user allows
 * it). A checkpoint is an OCI artifact:
 *
 *   image manifest  artifactType   application/vnd.orchestrate.checkpoint.v1
 *                   config         the checkpoint manifest (JSON; its digest is the checkpoint's id)
 *                   layers[0]      the pack index (JSON)
 *                   layers[1..]    the packs (tar+zstd or tar+gzip)
 *                   annotations    scope, creation time, signature
 *   tag             ck-<scope slug>-<project+fingerprint hash>-<scope hash>-<time>-<id>
 *
 * A lookup lists tags (one request per 1000 tags) instead of pulling
 * manifests. The manifest is put last, after every blob it names: a push cut
 * short leaves blobs without a tag, which the registry's garbage collection
 * removes, never a tag pointing at missing data (the registry refuses a
 * manifest whose blobs are missing).
 */
import { type CheckpointPointer, type NewPointer, PackedRemoteStore } from './packed-remote.js';
import { checkpointTag, parseCheckpointTag, tagPrefix } from './naming.js';
import { isLoopback, OciClient, registryCredentials } from './oci-client.js';
import type { RemoteCheckpointInfo, RemoteCheckpointQuery, RemoteStoreOptions } from './remote-store.js';
import { isValidScope } from './scope.js';

export const CHECKPOINT_ARTIFACT_TYPE = 'application/vnd.orchestrate.checkpoint.v1';
export const CHECKPOINT_MANIFEST_MEDIA_TYPE = 'application/vnd.orchestrate.checkpoint.manifest.v1+json';
export const PACK_INDEX_MEDIA_TYPE = 'application/vnd.orchestrate.pack-index.v1+json';
/** A pack's media type for its compression. */
export const packMediaType = (compression: string): string => `application/vnd.orchestrate.pack.v1.tar+${compression}`;

const ANNOTATION_SCOPE = 'dev.orchestrate.scope';
const ANNOTATION_SIGNATURE = 'dev.orchestrate.signature';
const ANNOTATION_KEY = 'dev.orchestrate.signature.key';
const ANNOTATION_CREATED = 'org.opencontainers.image.created';

const DIGEST = /^sha256:([0-9a-f]{64})$/;
/** Repository names (distribution spec): path components of lower-case alphanumerics and separators. */
const REPOSITORY = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;

export interface OciStoreOptions extends RemoteStoreOptions {
  /** Allows `oci+http://` to a host that is not loopback. @default false */
  readonly allowInsecure?: boolean;
  /** Bytes per PATCH of a chunked upload. @default 16 MiB */
  readonly chunkSize?: number;
}

/** Parses `oci://host[:port]/repository` (or `oci+http://`); throws on anything else. */
export function parseOciUrl(url: string, allowInsecure = false): { base: string; host: string; repository: string } {
  const match = /^oci(\+http)?:\/\/([^/@]+)\/(.+)$/.exec(url);
  if (!match) throw new Error(`'${url}' is not an OCI registry URL (oci://host[:port]/repository)`);
  const [, plain, host, repository] = match as unknown as [string, string | undefined, string, string];
  if (!REPOSITORY.test(repository) || repository.length > 255) throw new Error(`'${repository}' is not a valid repository name`);
  const hostname = host.replace(/:\d+$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host)) throw new Error(`'${host}' is not a valid registry host`);
  if (plain !== undefined && !allowInsecure && !isLoopback(hostname)) {
    throw new Error(`'${url}': plain HTTP is allowed for loopback registries only (allow it explicitly for '${hostname}')`);
  }
  return { base: `${plain !== undefined ? 'http' : 'https'}://${host}`, host, repository };
}

interface OciDescriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
}

/** Checkpoints as OCI artifacts in one repository; see the module's comment. */
export class OciStore extends PackedRemoteStore {
  readonly client: OciClient;
  readonly #url: string;

  constructor(url: string, options: OciStoreOptions = {}) {
    super(options);
    const { base, host, repository } = parseOciUrl(url, options.allowInsecure === true);
    this.#url = url;
    this.client = new OciClient({
      base,
      repository,
      credentials: registryCredentials(host, options.env ?? process.env),
      timeoutMs: options.timeoutMs ?? 30_000,
      transferTimeoutMs: options.transferTimeoutMs ?? 600_000,
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
      ...(options.debug === undefined ? {} : { debug: options.debug }),
    });
  }

  describe(): string {
    return this.#url;
  }

  protected async listPointers(query: RemoteCheckpointQuery): Promise<RemoteCheckpointInfo[]> {
    const tags = await this.client.listTags();
    const out: RemoteCheckpointInfo[] = [];
    for (const scope of query.scopes) {
      const prefix = tagPrefix(query.project, query.fingerprint, scope);
      for (const tag of tags) {
        const parsed = parseCheckpointTag(tag, prefix);
        if (parsed) out.push({ id: parsed.id, project: query.project, scope, createdAt: parsed.createdAt, location: tag });
      }
    }
    return out;
  }

  protected async readPointer(info: RemoteCheckpointInfo): Promise<CheckpointPointer> {
    const bytes = await this.client.getManifest(info.location);
    const manifest = JSON.parse(bytes.toString('utf8')) as {
      schemaVersion?: unknown;
      artifactType?: unknown;
      config?: OciDescriptor;
      layers?: unknown;
      annotations?: Record<string, unknown>;
    };
    if (manifest.schemaVersion !== 2 || manifest.artifactType !== CHECKPOINT_ARTIFACT_TYPE)
      throw new Error(`tag '${info.location}' is not an orchestrate checkpoint`);
    const config = manifest.config;
    const id =
      config?.mediaType === CHECKPOINT_MANIFEST_MEDIA_TYPE && typeof config.digest === 'string'
        ? DIGEST.exec(config.digest)?.[1]
        : undefined;
    if (id === undefined) throw new Error(`tag '${info.location}' has no checkpoint manifest as its config`);
    const layers = Array.isArray(manifest.layers) ? (manifest.layers as OciDescriptor[]) : [];
    const indexLayer = layers.find((layer) => layer.mediaType === PACK_INDEX_MEDIA_TYPE);
    const packIndex = typeof indexLayer?.digest === 'string' ? DIGEST.exec(indexLayer.digest)?.[1] : undefined;
    if (packIndex === undefined) throw new Error(`tag '${info.location}' has no pack index`);
    const annotations = manifest.annotations ?? {};
    const scope = annotations[ANNOTATION_SCOPE];
    if (typeof scope !== 'string' || !isValidScope(scope)) throw new Error(`tag '${info.location}' records no valid scope`);
    const signature = annotations[ANNOTATION_SIGNATURE];
    const key = annotations[ANNOTATION_KEY];
    const created = annotations[ANNOTATION_CREATED];
    return {
      id,
      packIndex,
      scope,
      createdAt: typeof created === 'string' ? created : info.createdAt,
      signature: typeof signature === 'string' && typeof key === 'string' ? { keyId: key, signature } : undefined,
    };
  }

  protected async writePointer(pointer: NewPointer): Promise<string> {
    const unique = new Map(pointer.packs.map((pack) => [pack.digest, pack]));
    const annotations: Record<string, string> = { [ANNOTATION_CREATED]: pointer.createdAt, [ANNOTATION_SCOPE]: pointer.scope };
    if (pointer.signature !== undefined) {
      annotations[ANNOTATION_SIGNATURE] = pointer.signature.signature;
      annotations[ANNOTATION_KEY] = pointer.signature.keyId;
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: CHECKPOINT_ARTIFACT_TYPE,
      config: { mediaType: CHECKPOINT_MANIFEST_MEDIA_TYPE, digest: `sha256:${pointer.id}`, size: pointer.manifestSize },
      layers: [
        { mediaType: PACK_INDEX_MEDIA_TYPE, digest: `sha256:${pointer.packIndex}`, size: pointer.packIndexSize },
        ...[...unique.values()].map((pack) => ({
          mediaType: packMediaType(pack.compression),
          digest: `sha256:${pack.digest}`,
          size: pack.size,
        })),
      ],
      annotations,
    };
    const tag = checkpointTag(tagPrefix(pointer.project, pointer.fingerprint, pointer.scope), pointer.createdAt, pointer.id);
    await this.client.putManifest(tag, Buffer.from(JSON.stringify(manifest)));
    return tag;
  }

  protected hasBlob(digest: string): Promise<boolean> {
    return this.client.hasBlob(digest, this.readOnlyReason === undefined);
  }

  protected readBlob(digest: string, max: number, what: string): Promise<Buffer> {
    return this.client.readBlob(digest, max, what);
  }

  protected downloadBlob(digest: string, size: number, file: string, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
    return this.client.downloadBlob(digest, size, file, onBytes, signal);
  }

  protected uploadBlob(digest: string, content: Buffer | { file: string; size: number }, signal?: AbortSignal): Promise<number> {
    return this.client.uploadBlob(digest, content, signal);
  }
}
