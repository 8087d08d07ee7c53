/**
 * Byte-for-byte comparison of two builds' outputs, with the likely cause of a
 * difference where one is known:
 *
 * - an embedded path: the checkpoint build's file holds the directory the
 *   checkpoint was captured in, the clean build's does not (debug information,
 *   a path baked in by the build);
 * - a warm-build-only dependency: files the checkpoint build kept exactly as
 *   restored (never rebuilt) come out differently from a clean build, so the
 *   build tool did not know they depend on something that changed.
 *
 * Anything else gets no cause: a guess would mislead.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointManifest } from '../checkpoint/manifest.js';

/** An output whose bytes differ between the two builds. */
export interface OutputDifference {
  /** Path relative to the build directory. */
  readonly path: string;
  /** The first byte at which the two differ (the shorter one's length when it is a prefix of the other). */
  readonly offset: number;
  /** Sizes in bytes: [checkpoint build, clean build]. */
  readonly size: readonly [number, number];
  /** The likely cause, when one is known. */
  readonly cause?: string;
}

/** An output only one of the two builds made. */
export interface MissingOutput {
  readonly path: string;
  /** The build that did not make it. */
  readonly missingFrom: 'checkpoint' | 'clean';
}

export interface Comparison {
  readonly identical: boolean;
  /** Outputs both builds made, compared byte for byte. */
  readonly compared: number;
  readonly differing: readonly OutputDifference[];
  readonly missing: readonly MissingOutput[];
}

export interface CompareOptions {
  /** The checkpoint build's tree and the clean build's build directory (the same layout). */
  readonly warmBuildDir: string;
  readonly cleanBuildDir: string;
  readonly warmOutputs: readonly string[];
  readonly cleanOutputs: readonly string[];
  /** The checkpoint the warm build restored, when it restored one. */
  readonly checkpoint?: CheckpointManifest | undefined;
}

/** A file's bytes, or a link's target as bytes (`link:<target>`); `undefined` when absent. */
async function tryContent(path: string): Promise<Buffer | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (info.isSymbolicLink()) return Buffer.from(`link:${await readlink(path)}`);
  return readFile(path);
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * State files of `checkpoint` the checkpoint build left exactly as restored
 * (their bytes are the recorded blob's, stored untransformed) that a clean
 * build makes differently: what the build tool did not rebuild although it should have.
 */
async function keptStale(options: CompareOptions): Promise<string[]> {
  const checkpoint = options.checkpoint;
  if (!checkpoint) return [];
  const out: string[] = [];
  for (const [path, record] of Object.entries(checkpoint.state)) {
    if ((record.kind !== 'file' && record.kind !== 'exec') || record.blob === undefined || record.transform !== undefined) continue;
    const warm = await tryContent(join(options.warmBuildDir, path));
    if (!warm || sha256(warm) !== record.blob) continue;
    const clean = await tryContent(join(options.cleanBuildDir, path));
    if (!clean || !warm.equals(clean)) out.push(path);
  }
  return out.sort();
}

/** Compares the outputs of a checkpoint build and a clean build; see the module's comment for the causes. */
export async function compareOutputs(options: CompareOptions): Promise<Comparison> {
  const warmSet = new Set(options.warmOutputs);
  const cleanSet = new Set(options.cleanOutputs);
  const missing: MissingOutput[] = [];
  for (const path of options.cleanOutputs) if (!warmSet.has(path)) missing.push({ path, missingFrom: 'checkpoint' });
  for (const path of options.warmOutputs) if (!cleanSet.has(path)) missing.push({ path, missingFrom: 'clean' });
  const roots = options.checkpoint
    ? [...new Set([options.checkpoint.roots.build, options.checkpoint.roots.source, options.checkpoint.roots.project])].map((r) =>
        Buffer.from(r),
      )
    : [];
  let stale: Promise<string[]> | undefined;
  const differing: OutputDifference[] = [];
  let compared = 0;
  for (const path of options.warmOutputs) {
    if (!cleanSet.has(path)) continue;
    compared++;
    const [warm, clean] = await Promise.all([tryContent(join(options.warmBuildDir, path)), tryContent(join(options.cleanBuildDir, path))]);
    if (!warm || !clean) {
      missing.push({ path, missingFrom: warm ? 'clean' : 'checkpoint' });
      continue;
    }
    if (warm.equals(clean)) continue;
    let cause: string | undefined;
    const root = roots.find((r) => warm.includes(r) && !clean.includes(r));
    if (root) {
      cause = `it embeds '${root.toString()}', the directory the checkpoint was built in (debug information, or a path the build bakes in); outputs restored from a checkpoint built elsewhere keep it`;
    } else {
      stale ??= keptStale(options);
      const kept = await stale;
      if (kept.length > 0) {
        // The deepest files first: what was kept stale, rather than the output linked from it.
        const named = kept.filter((p) => !warmSet.has(p));
        const list = (named.length > 0 ? named : kept)
          .slice(0, 3)
          .map((p) => `'${p}'`)
          .join(', ');
        cause = `a warm-build-only dependency: the build files may miss a prerequisite of ${list} (kept as restored from the checkpoint, a clean build makes it differently)`;
      }
    }
    differing.push({
      path,
      offset: firstDifference(warm, clean),
      size: [warm.length, clean.length],
      ...(cause === undefined ? {} : { cause }),
    });
  }
  missing.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { identical: differing.length === 0 && missing.length === 0, compared, differing, missing };
}
