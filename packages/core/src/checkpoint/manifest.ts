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

const nsTime = z.string().regex(/^-?\d{1,20}$/, 'expected a decimal nanosecond time');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 hex digest');
const gitId = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'expected a git object id');

/** A relative POSIX path without `.`/`..` segments, empty segments or NUL bytes. */
export const relativePath = z.string().refine(isSafeRelativePath, { message: 'unsafe path' });

/** True for a normalised relative path that cannot leave the directory it is resolved against. */
export function isSafeRelativePath(path: string): boolean {
  if (path.length === 0 || path.length > 4096 || path.includes('\0') || path.includes('\\')) return false;
  if (path.startsWith('/')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

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
});

export const checkpointManifestSchema = z.strictObject({
  schema: z.literal(MANIFEST_SCHEMA_VERSION),
  project: z.string().min(1),
  createdAt: z.iso.datetime(),
  orchestrate: z.string(),
  /** Keyed fingerprint: `"toolchain.cc": "gcc 12.2.0 (sha256 …)"`. */
  fingerprint: z.record(z.string(), z.string()),
  /** Absolute directories at capture time, for relocation. */
  roots: z.strictObject({ project: z.string(), source: z.string(), build: z.string() }),
  /** The source and build directories relative to the project directory. */
  sourceDir: z.string(),
  buildDir: z.string(),
  sources: z.record(relativePath, sourceRecordSchema),
  state: z.record(relativePath, stateRecordSchema),
  /** Free-form data plugins keep with the checkpoint, keyed by plugin name. */
  data: z.record(z.string(), z.unknown()),
});

export type SourceRecord = z.infer<typeof sourceRecordSchema>;
export type StateRecord = z.infer<typeof stateRecordSchema>;
export type CheckpointManifest = z.infer<typeof checkpointManifestSchema>;

/** How a store names one checkpoint. */
export interface CheckpointRef {
  /** SHA-256 of the manifest's bytes. */
  readonly id: string;
  readonly project: string;
  readonly createdAt: string;
}
