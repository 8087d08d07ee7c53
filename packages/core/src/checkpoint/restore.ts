/**
 * Restore: check the checkpoint against the working tree, verify every blob,
 * write the state back, then replay time. Nothing is written before every
 * check has passed; a failure while writing removes what was written.
 */
import { chmod, lstat, mkdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
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

async function tryLstat(path: string) {
  try {
    return await lstat(path);
  } catch {
    return undefined;
  }
}

/** Checks everything that can be checked before a byte is written; throws {@link CheckpointRefusedError}. */
async function checkPlan(options: RestoreOptions): Promise<void> {
  const { context, entries, sources } = options;
  const toSource = stateToSourceMapper(context.sourceDir, context.buildDir);
  const dirs = new Set<string>();
  for (const [path, record] of entries) {
    const sourcePath = toSource(path);
    if (sourcePath !== undefined && sources.has(sourcePath)) {
      throw new CheckpointRefusedError(`its state file '${path}' is a source file in the working tree`);
    }
    if ((record.kind === 'file' || record.kind === 'exec') && record.blob === undefined) {
      throw new CheckpointRefusedError(`its state file '${path}' has no blob`);
    }
    if (record.kind === 'link') {
      const target = record.target ?? '';
      const resolved = normalize(join(dirname(path), target));
      if (target === '' || isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
        throw new CheckpointRefusedError(`its symbolic link '${path}' points outside the build directory ('${target}')`);
      }
    }
    for (const dir of ancestors(path)) dirs.add(dir);
  }
  for (const dir of dirs) {
    const info = await tryLstat(join(context.buildDir, dir));
    if (info?.isSymbolicLink() && entries.get(dir)?.kind !== 'link') {
      throw new CheckpointRefusedError(`'${dir}' in the build directory is a symbolic link; restoring through it could write outside`);
    }
    if (entries.get(dir)?.kind === 'link') {
      throw new CheckpointRefusedError(`its symbolic link '${dir}' would be a parent directory of other state files`);
    }
  }
}

/** Verifies every blob the plan needs. */
async function verifyBlobs(options: RestoreOptions): Promise<void> {
  const limit = pLimit(8);
  const blobs = new Set<string>();
  for (const record of options.entries.values()) if (record.blob) blobs.add(record.blob);
  await Promise.all([...blobs].map((blob) => limit(() => options.context.store.verifyBlob(blob))));
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
  await checkPlan(options);

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

  await verifyBlobs(options);

  const written: string[] = [];
  const limit = pLimit(16);
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  try {
    for (const [path, record] of sorted) {
      if (record.kind !== 'dir') continue;
      const abs = join(context.buildDir, path);
      const info = await tryLstat(abs);
      if (info && !info.isDirectory()) await rm(abs, { force: true });
      if (!info?.isDirectory()) written.push(path);
      await mkdir(abs, { recursive: true });
    }
    await Promise.all(
      sorted
        .filter(([, record]) => record.kind !== 'dir')
        .map(([path, record]) =>
          limit(async () => {
            const abs = join(context.buildDir, path);
            await mkdir(dirname(abs), { recursive: true });
            const info = await tryLstat(abs);
            if (info) await rm(abs, { force: true, recursive: info.isDirectory() });
            written.push(path);
            if (record.kind === 'link') {
              await symlink(record.target ?? '', abs);
              return;
            }
            const blob = record.blob as string;
            if (record.transform === undefined) {
              await context.store.copyBlobTo(blob, abs);
            } else {
              const content = await options.transform(record.transform, await context.store.readBlob(blob), {
                path,
                absolutePath: abs,
                context,
              });
              await writeFile(abs, content);
            }
            await chmod(abs, record.kind === 'exec' ? 0o755 : 0o644);
          }),
        ),
    );
  } catch (error) {
    await Promise.all(written.map((path) => rm(join(context.buildDir, path), { force: true, recursive: true })));
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
  await Promise.all(
    sorted.map(([path, record]) =>
      limit(async () => {
        if (record.kind !== 'file' && record.kind !== 'exec') return;
        const info = await lstat(join(context.buildDir, path), { bigint: true }).catch(() => undefined);
        if (info) stamps.set(path, stampOf(info));
      }),
    ),
  );
  return { restored: written, newestRecordedNs: newest, changedSourceTimeNs: newTime, stamps };
}
