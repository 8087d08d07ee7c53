/**
 * The checkpoint manifest: a versioned JSON document that lists the sources
 * (by content) a build saw and the build state it left behind (by blob), with
 * every recorded mtime in nanoseconds. Paths are relative (state: to the build
 * directory; sources: to the source directory), so a checkpoint moves between
 * directories and machines. Never trusted: every manifest read from a store is
 * validated against this schema, and every path is checked before use.
 */
import * as z from 'zod';

// Each schema runs a few times per process: zod's compiled fast path costs
// more to generate than it saves (a cmark manifest: ~5 ms per parse with it, ~1.5 ms without).
z.config({ jitless: true });

/** Bumped on every incompatible change of the manifest's shape. */
export const MANIFEST_SCHEMA_VERSION = 1;

const NS_TIME = /^-?\d{1,20}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const GIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const nsTime = z.string().regex(NS_TIME, 'expected a decimal nanosecond time');
const sha256 = z.string().regex(SHA256, 'expected a SHA-256 hex digest');
const gitId = z.string().regex(GIT_ID, 'expected a git object id');

/** A relative POSIX path without `.`/`..` segments, empty segments or NUL bytes. */
export const relativePath = z.string().refine(isSafeRelativePath, { message: 'unsafe path' });

/** True for a normalised relative path that cannot leave the directory it is resolved against. */
export function isSafeRelativePath(path: string): boolean {
  if (path.length === 0 || path.length > 4096 || path.includes('\0') || path.includes('\\')) return false;
  if (path.startsWith('/')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** An absolute POSIX path (a root the checkpoint was captured at; plugins relocate from it). */
const absolutePath = z.string().refine((path) => path.startsWith('/') && !path.includes('\0') && path.length <= 4096, {
  message: 'expected an absolute path',
});

export const sourceRecordSchema = z.strictObject({
  hash: gitId,
  kind: z.enum(['file', 'exec', 'link']),
  target: z.string().optional(),
  mtimeNs: nsTime,
});

export const stateRecordSchema = z.strictObject({
  kind: z.enum(['file', 'exec', 'link', 'dir']),
  /** SHA-256 of the stored bytes (after the capture transform), for files. */
  blob: sha256.optional(),
  size: z.number().int().nonnegative().optional(),
  mtimeNs: nsTime,
  target: z.string().optional(),
  /** Name of the `captureFile`/`restoreFile` transform the file passes through. */
  transform: z.string().optional(),
  /**
   * The root (`manifest.roots.source` or `.build`) its stored bytes still name
   * after the transform, when its plugin did not declare it `movable`: a
   * restore at another path leaves it out (README "Paths").
   */
  pathBound: z.enum(['source', 'build']).optional(),
});

export const checkpointManifestSchema = z.strictObject({
  schema: z.literal(MANIFEST_SCHEMA_VERSION),
  project: z.string().min(1),
  createdAt: z.iso.datetime(),
  orchestrate: z.string(),
  /** Keyed fingerprint: `"toolchain.cc": "gcc 12.2.0 (sha256 …)"`. */
  fingerprint: z.record(z.string(), z.string()),
  /** Absolute directories at capture time, for relocation. */
  roots: z.strictObject({ project: absolutePath, source: absolutePath, build: absolutePath }),
  /** The source and build directories relative to the project directory. */
  sourceDir: z.string(),
  buildDir: z.string(),
  sources: z.record(relativePath, sourceRecordSchema),
  state: z.record(relativePath, stateRecordSchema),
  /** Free-form data plugins keep with the checkpoint, keyed by plugin name. */
  data: z.record(z.string(), z.unknown()),
  /**
   * Blobs plugins keep with the checkpoint besides its files (a table too
   * large for `data`), by a name of the plugin's: read with the store's
   * verified `readBlob`, kept by gc as long as the checkpoint is.
   */
  attachments: z.record(z.string(), sha256).optional(),
  /**
   * How long the project's last full build took (configure and build steps),
   * in ms: measured by a full build, carried on by the rolling checkpoints
   * built from it; the report's time saved is reckoned against it.
   */
  fullBuildMs: z.number().int().nonnegative().optional(),
  /**
   * Inputs that neither version control nor the build wrote (a configure
   * step's `config.h` and Makefiles), by path relative to the build directory:
   * recorded by content, so a restore gives an unchanged one its time back.
   */
  inputs: z.record(relativePath, z.strictObject({ hash: sha256, size: z.number().int().nonnegative(), mtimeNs: nsTime })).optional(),
  /**
   * The trust scope of the build that wrote it (a branch, `pr-<n>`; see
   * store/remote/scope.ts); absent for a build without one. A remote refuses
   * a checkpoint whose scope is not the one it is listed under.
   */
  scope: z.string().min(1).max(128).optional(),
});

export type SourceRecord = z.infer<typeof sourceRecordSchema>;
export type StateRecord = z.infer<typeof stateRecordSchema>;
/** A recorded input: its content and its time at capture. */
export type InputRecord = NonNullable<z.infer<typeof checkpointManifestSchema>['inputs']>[string];
export type CheckpointManifest = z.infer<typeof checkpointManifestSchema>;

/** How a store names one checkpoint. */
export interface CheckpointRef {
  /** SHA-256 of the manifest's bytes. */
  readonly id: string;
  readonly project: string;
  readonly createdAt: string;
  /** The store it was found in, when not the local store (a read-only layer, a remote). */
  readonly origin?: string;
}

/**
 * The manifest without its two large maps, which {@link parseCheckpointManifest}
 * checks with {@link isSourceRecord} and {@link isStateRecord} instead.
 */
const manifestHeadSchema = checkpointManifestSchema.extend({
  sources: z.record(z.string(), z.unknown()),
  state: z.record(z.string(), z.unknown()),
});

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOnlyKeys(value: PlainObject, keys: ReadonlySet<string>): boolean {
  for (const key of Object.keys(value)) if (!keys.has(key)) return false;
  return true;
}

const optionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';
const SOURCE_KEYS = new Set(['hash', 'kind', 'target', 'mtimeNs']);
const STATE_KEYS = new Set(['kind', 'blob', 'size', 'mtimeNs', 'target', 'transform', 'pathBound']);
const ROOT_NAMES = new Set(['source', 'build']);
const SOURCE_KINDS = new Set(['file', 'exec', 'link']);
const STATE_KINDS = new Set(['file', 'exec', 'link', 'dir']);

/** Exactly what {@link sourceRecordSchema} accepts (a test holds the two equal). */
export function isSourceRecord(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    hasOnlyKeys(value, SOURCE_KEYS) &&
    typeof value['hash'] === 'string' &&
    GIT_ID.test(value['hash']) &&
    SOURCE_KINDS.has(value['kind'] as string) &&
    optionalString(value['target']) &&
    typeof value['mtimeNs'] === 'string' &&
    NS_TIME.test(value['mtimeNs'])
  );
}

/** Exactly what {@link stateRecordSchema} accepts (a test holds the two equal). */
export function isStateRecord(value: unknown): boolean {
  if (!isPlainObject(value) || !hasOnlyKeys(value, STATE_KEYS) || !STATE_KINDS.has(value['kind'] as string)) return false;
  const { blob, size, mtimeNs } = value;
  return (
    (blob === undefined || (typeof blob === 'string' && SHA256.test(blob))) &&
    (size === undefined || (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) &&
    typeof mtimeNs === 'string' &&
    NS_TIME.test(mtimeNs) &&
    optionalString(value['target']) &&
    optionalString(value['transform']) &&
    (value['pathBound'] === undefined || ROOT_NAMES.has(value['pathBound'] as string))
  );
}

function allRecords(map: PlainObject, isRecord: (value: unknown) => boolean): boolean {
  for (const [path, record] of Object.entries(map)) if (!isSafeRelativePath(path) || !isRecord(record)) return false;
  return true;
}

/**
 * Validates a manifest read from a store: {@link checkpointManifestSchema}'s
 * verdict, with its thousands of file records checked by plain functions
 * (zod takes ~15 ms per manifest on a cold start, and every checkpoint of a
 * project is read to find the closest). A manifest that fails gets zod's own
 * issues, so messages name the first bad path.
 */
export function parseCheckpointManifest(json: unknown): ReturnType<typeof checkpointManifestSchema.safeParse> {
  const head = manifestHeadSchema.safeParse(json);
  if (head.success && allRecords(head.data.sources, isSourceRecord) && allRecords(head.data.state, isStateRecord)) {
    return { success: true, data: head.data as CheckpointManifest };
  }
  return checkpointManifestSchema.safeParse(json);
}
