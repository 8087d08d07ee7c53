/**
 * Restore: check the checkpoint against the working tree, verify every blob,
 * write the state back, then replay time. Nothing is written before every
 * check has passed; a failure while writing removes what was written.
 */
import { chmodSync, lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { chmod, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import pLimit from 'p-limit';
import type { BuildContext } from '../context.js';
import type { FileTransformInfo } from '../hooks.js';
import { changedPaths, type ChangeSet, type SourceEntry } from '../sources/manifest.js';
import { stampOf, type FileStamp } from './capture.js';
import type { CheckpointManifest, StateRecord } from './manifest.js';
import { ancestors, relativeInside, stateToSourceMapper } from './paths.js';
import { probeGranularity, setTimes } from './times.js';

const REFUSAL = Symbol.for('orchestrate.refusal');

/**
 * Thrown (by the core, or by a plugin from `beforeRestore`, `restoreFile` or
 * `afterRestore`) when a checkpoint cannot be used safely. Not an error of the
 * run: the restored files are removed and the build goes on in full, printing
 * `reason`.
 */
export class CheckpointRefusedError extends Error {
  readonly [REFUSAL] = true;
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'CheckpointRefusedError';
    this.reason = reason;
  }
}

/** True for a {@link CheckpointRefusedError} from any copy of the package. */
export function isCheckpointRefusal(value: unknown): value is CheckpointRefusedError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[REFUSAL] === true;
}

export interface RestoreOptions {
  context: BuildContext;
  manifest: CheckpointManifest;
  /** State entries to write (the plan after `beforeRestore`). */
  entries: ReadonlyMap<string, StateRecord>;
  changes: ChangeSet;
  sources: ReadonlyMap<string, SourceEntry>;
  transform: (name: string, content: Buffer, info: FileTransformInfo) => Promise<Buffer>;
}

export interface RestoreOutcome {
  restored: string[];
  newestRecordedNs: bigint;
  changedSourceTimeNs: bigint;
  /** Stamps of the restored files right after the time replay, for blob reuse at capture. */
  stamps: Map<string, FileStamp>;
}


/**
 * Where the link at `path` leads, relative to the build directory, following
 * the plan's other links as the file system will; `undefined` when it leaves
 * the build directory, is absolute or empty, or loops.
 */
export function tryResolveLinkInPlan(path: string, entries: ReadonlyMap<string, StateRecord>): string | undefined {
  let hops = 0;
  const walk = (from: readonly string[], target: string): string[] | undefined => {
    if (target === '' || isAbsolute(target)) return undefined;
    const at = [...from];
    for (const segment of target.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        if (at.length === 0) return undefined;
        at.pop();
        continue;
      }
      at.push(segment);
      const record = entries.get(at.join('/'));
      if (record?.kind !== 'link') continue;
      if (++hops > 40) return undefined;
      const next = walk(at.slice(0, -1), record.target ?? '');
      if (next === undefined) return undefined;
      at.splice(0, at.length, ...next);
    }
    return at;
  };
  return walk(path.split('/').slice(0, -1), entries.get(path)?.target ?? '')?.join('/');
}

/**
 * Checks everything that can be checked before a byte is written; throws
 * {@link CheckpointRefusedError}. Its stats are synchronous, as the writes are.
 */
function checkPlan(options: RestoreOptions): void {
  const { context, entries, sources } = options;
  const toSource = stateToSourceMapper(context.sourceDir, context.buildDir);
  const dirs = new Set<string>();
  // Case-folded too: on a case-insensitive file system 'Out' and 'out' are one entry.
  const links = new Set<string>();
  for (const [path, record] of entries) {
    const sourcePath = toSource(path);
    if (sourcePath !== undefined && sources.has(sourcePath)) {
      throw new CheckpointRefusedError(`its state file '${path}' is a source file in the working tree`);
    }
    if ((record.kind === 'file' || record.kind === 'exec') && record.blob === undefined) {
      throw new CheckpointRefusedError(`its state file '${path}' has no blob`);
    }
    if (record.kind === 'link') {
      // Followed through the plan's other links: `d/y -> ..` then `x -> d/y/../out` leaves the directory.
      if (tryResolveLinkInPlan(path, entries) === undefined) {
        throw new CheckpointRefusedError(`its symbolic link '${path}' points outside the build directory ('${record.target ?? ''}')`);
      }
      links.add(path.toLowerCase());
    }
    for (const dir of ancestors(path)) dirs.add(dir);
  }
  for (const dir of dirs) {
    const info = lstatSync(join(context.buildDir, dir), { throwIfNoEntry: false });
    if (info?.isSymbolicLink() && entries.get(dir)?.kind !== 'link') {
      throw new CheckpointRefusedError(`'${dir}' in the build directory is a symbolic link; restoring through it could write outside`);
    }
    if (links.has(dir.toLowerCase())) {
      throw new CheckpointRefusedError(`its symbolic link '${dir}' would be a parent directory of other state files`);
    }
    if (info && !info.isDirectory() && !info.isSymbolicLink() && entries.get(dir)?.kind !== 'dir') {
      throw new CheckpointRefusedError(`'${dir}' in the build directory is a file where the checkpoint has a directory`);
    }
  }
  // A directory of the working tree is never replaced by a file: it may hold the user's files.
  for (const [path, record] of entries) {
    if (record.kind === 'dir') continue;
    const info = lstatSync(join(context.buildDir, path), { throwIfNoEntry: false });
    if (info?.isDirectory()) {
      throw new CheckpointRefusedError(`its state file '${path}' would replace the directory '${path}' of the working tree`);
    }
  }
}

/** Blobs up to this size are read once, checked and written from memory; larger ones are checked, then copied. */
const IN_MEMORY_BLOB_BYTES = 1024 * 1024;
/** At most this much blob content is held at once. */
const IN_MEMORY_TOTAL_BYTES = 256 * 1024 * 1024;

/**
 * Verifies every blob the plan needs before anything is written. Transformed
 * files and small ones are read once and kept (blob -> bytes); the others are
 * verified in a stream and copied later.
 */
async function loadBlobs(options: RestoreOptions): Promise<Map<string, Buffer>> {
  const limit = pLimit(8);
  const wanted = new Map<string, boolean>();
  let kept = 0;
  for (const record of options.entries.values()) {
    if (!record.blob || wanted.get(record.blob)) continue;
    const small = record.size !== undefined && record.size <= IN_MEMORY_BLOB_BYTES && kept + record.size <= IN_MEMORY_TOTAL_BYTES;
    const keep = record.transform !== undefined || small;
    if (keep && !wanted.has(record.blob)) kept += record.size ?? 0;
    wanted.set(record.blob, keep);
  }
  const contents = new Map<string, Buffer>();
  const store = options.context.store;
  await Promise.all(
    [...wanted].map(([blob, keep]) =>
      limit(async () => {
        if (keep) contents.set(blob, await store.readBlob(blob));
        else await store.verifyBlob(blob);
      }),
    ),
  );
  return contents;
}

/** Removes what stands at `abs` (a file, link or directory; links are not followed). */
function clearPath(abs: string): void {
  const info = lstatSync(abs, { throwIfNoEntry: false });
  if (info) rmSync(abs, { force: true, recursive: info.isDirectory() });
}

/** The time given to added and modified sources: strictly newer than anything recorded, on the file system's grid. */
export function changedTime(newestRecordedNs: bigint, nowNs: bigint, granularityNs: bigint): bigint {
  let time = newestRecordedNs + granularityNs > nowNs ? newestRecordedNs + granularityNs : nowNs;
  const rest = time % granularityNs;
  if (rest !== 0n) time += granularityNs - rest;
  return time;
}

/** Restores the state; see the module comment. */
export async function restoreCheckpoint(options: RestoreOptions): Promise<RestoreOutcome> {
  const { context, manifest, entries, changes, sources } = options;
  checkPlan(options);

  // Links that changed make their dependents see their target's time: date the target too.
  const changed = changedPaths(changes);
  const linkTargets: string[] = [];
  const realSource = await realpath(context.sourceDir);
  for (const path of changed) {
    if (sources.get(path)?.kind !== 'link') continue;
    const target = await realpath(join(context.sourceDir, path)).catch(() => undefined);
    if (target === undefined) continue; // dangling: the tool sees it missing
    if (relativeInside(realSource, target) === undefined) {
      throw new CheckpointRefusedError(`the changed link '${path}' points outside the source tree ('${target}'), so its dependents cannot be dated`);
    }
    linkTargets.push(target);
  }

  const contents = await loadBlobs(options);
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const files = sorted.filter(([, record]) => record.kind !== 'dir' && record.kind !== 'link');
  // Plugins' transforms run before any write, so a refusal leaves the tree untouched.
  const transformed = new Map<string, Buffer>();
  await Promise.all(
    files.map(async ([path, record]) => {
      if (record.transform === undefined) return;
      // Not copied (new memory costs page faults): transforms return new bytes, see `restoreFile`.
      const content = contents.get(record.blob as string) as Buffer;
      const info = { path, absolutePath: join(context.buildDir, path), context };
      transformed.set(path, await options.transform(record.transform, content, info));
    }),
  );

  // The writes are many small local operations: done synchronously, without a
  // thread-pool round trip each (the copies of large blobs excepted).
  const written: string[] = [];
  /** Directories this restore created (the top one of each `mkdir -p`), for the rollback. */
  const created: string[] = [];
  const limit = pLimit(8);
  const umask = process.umask();
  try {
    const made = new Set<string>();
    const makeDir = (abs: string): void => {
      if (made.has(abs)) return;
      const first = mkdirSync(abs, { recursive: true });
      if (first !== undefined) created.push(first);
      made.add(abs);
    };
    for (const [path, record] of sorted) {
      if (record.kind !== 'dir') continue;
      const abs = join(context.buildDir, path);
      const info = lstatSync(abs, { throwIfNoEntry: false });
      if (info && !info.isDirectory()) rmSync(abs, { force: true });
      if (!info?.isDirectory()) written.push(path);
      makeDir(abs);
    }
    const copies: [abs: string, blob: string, mode: number][] = [];
    for (const [path, record] of sorted) {
      if (record.kind === 'dir') continue;
      const abs = join(context.buildDir, path);
      makeDir(dirname(abs));
      clearPath(abs);
      written.push(path);
      if (record.kind === 'link') {
        symlinkSync(record.target ?? '', abs);
        continue;
      }
      const mode = record.kind === 'exec' ? 0o755 : 0o644;
      const content = transformed.get(path) ?? contents.get(record.blob as string);
      if (content === undefined) {
        copies.push([abs, record.blob as string, mode]);
        continue;
      }
      // 'wx': a new file, never through a link that appeared since the check.
      writeFileSync(abs, content, { flag: 'wx', mode });
      if ((mode & ~umask) !== mode) chmodSync(abs, mode);
    }
    // Every copy settles before a failure is reported, so the rollback below races none of them.
    const copied = await Promise.allSettled(
      copies.map(([abs, blob, mode]) =>
        limit(async () => {
          await context.store.copyBlobTo(blob, abs);
          await chmod(abs, mode);
        }),
      ),
    );
    const failed = copied.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    for (const path of written) rmSync(join(context.buildDir, path), { force: true, recursive: true });
    for (const dir of created.reverse()) rmSync(dir, { force: true, recursive: true });
    throw error;
  }

  // Time: replay every recorded mtime, date every change strictly newer than all of them.
  let newest = 0n;
  for (const record of Object.values(manifest.state)) if (BigInt(record.mtimeNs) > newest) newest = BigInt(record.mtimeNs);
  for (const record of Object.values(manifest.sources)) if (BigInt(record.mtimeNs) > newest) newest = BigInt(record.mtimeNs);
  let granularity = await probeGranularity(context.buildDir);
  if (context.sourceDir !== context.buildDir) {
    const g = await probeGranularity(context.sourceDir);
    if (g > granularity) granularity = g;
  }
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const newTime = changedTime(newest, nowNs, granularity);

  const times = new Map<string, bigint>();
  for (const [path, record] of entries) times.set(join(context.buildDir, path), BigInt(record.mtimeNs));
  const changedSet = new Set(changed);
  for (const [path] of sources) {
    const recorded = manifest.sources[path];
    const abs = join(context.sourceDir, path);
    if (changedSet.has(path)) times.set(abs, newTime);
    else if (recorded) times.set(abs, BigInt(recorded.mtimeNs));
  }
  for (const target of linkTargets) times.set(target, newTime);
  // Directories last, deepest first, after everything inside them was written.
  const ordered = [...times].sort(([a], [b]) => b.length - a.length);
  await setTimes(ordered);

  const stamps = new Map<string, FileStamp>();
  for (const [path] of files) {
    const info = lstatSync(join(context.buildDir, path), { bigint: true, throwIfNoEntry: false });
    if (info) stamps.set(path, stampOf(info));
  }
  return { restored: written, newestRecordedNs: newest, changedSourceTimeNs: newTime, stamps };
}
