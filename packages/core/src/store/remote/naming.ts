/**
 * Names on a remote: OCI tags and Bazel action-cache keys. Nothing a remote
 * or a config supplies becomes part of a name unchecked: the project, the
 * fingerprint and the scope enter as hashes, a readable part only after it is
 * reduced to `[a-z0-9]`.
 */
import { sha256 } from '../../sources/hash.js';

/** A canonical hash of a project and its keyed fingerprint (entries sorted). */
export function identityHash(project: string, fingerprint: Readonly<Record<string, string>>): string {
  const entries = Object.entries(fingerprint).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(JSON.stringify(['orchestrate-identity-v1', project, entries]));
}

/** The hash of a scope name. */
export function scopeHash(scope: string): string {
  return sha256(`orchestrate-scope-v1\n${scope}`);
}

/** A readable slug: lower-case letters and digits only, at most `max` characters, never empty. */
export function slug(text: string, max: number): string {
  const out = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '')
    .slice(0, max);
  return out === '' ? 'x' : out;
}

/** Tags are `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}` (distribution spec). */
export const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/**
 * The tag prefix of a project, fingerprint and scope:
 * `ck-<scope slug ≤12>-<identity 16>-<scope 10>-`. A lookup lists the
 * repository's tags and keeps those with the prefix of a scope it reads.
 */
export function tagPrefix(project: string, fingerprint: Readonly<Record<string, string>>, scope: string): string {
  return `ck-${slug(scope, 12)}-${identityHash(project, fingerprint).slice(0, 16)}-${scopeHash(scope).slice(0, 10)}-`;
}

/** `2025-01-02T03:04:05.678Z` → `20250102030405678`. */
function compactTime(iso: string): string {
  const digits = new Date(iso).toISOString().replace(/[^0-9]/g, '');
  return digits.padEnd(17, '0').slice(0, 17);
}

/** `20250102030405678` → `2025-01-02T03:04:05.678Z`. */
function isoTime(compact: string): string {
  const d = compact;
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(8, 10)}:${d.slice(10, 12)}:${d.slice(12, 14)}.${d.slice(14, 17)}Z`;
}

/** The tag of one checkpoint: its prefix, when it was made, and its id. At most 126 characters. */
export function checkpointTag(prefix: string, createdAt: string, id: string): string {
  const tag = `${prefix}${compactTime(createdAt)}-${id}`;
  if (!TAG.test(tag)) throw new Error(`internal: tag '${tag}' is not a valid tag`);
  return tag;
}

/** Parses a tag made by {@link checkpointTag} with `prefix`; undefined for any other tag. */
export function parseCheckpointTag(tag: string, prefix: string): { createdAt: string; id: string } | undefined {
  if (!tag.startsWith(prefix)) return undefined;
  const match = /^(\d{17})-([0-9a-f]{64})$/.exec(tag.slice(prefix.length));
  if (!match) return undefined;
  const createdAt = isoTime(match[1]!);
  if (Number.isNaN(Date.parse(createdAt))) return undefined;
  return { createdAt, id: match[2]! };
}

/** The action-cache key of a project, fingerprint and scope: its index of checkpoints lives at `/ac/<key>`. */
export function actionCacheKey(project: string, fingerprint: Readonly<Record<string, string>>, scope: string): string {
  return sha256(`orchestrate-ac-v1\n${identityHash(project, fingerprint)}\n${scopeHash(scope)}`);
}
