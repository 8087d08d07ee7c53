/**
 * Restore: check the checkpoint against the working tree, verify every blob,
 * write the state back, then replay time. Nothing is written before every
 * check has passed; a failure while writing removes what was written.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { chmod, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pLimit from 'p-limit';
import type { BuildContext } from '../context.js';
import { isOrchestrateError } from '../errors.js';
import type { FileTransformInfo, RestorePlan } from '../hooks.js';
import { changedPaths, NO_CHANGES, type SourceEntry } from '../sources/manifest.js';
import { sha256 } from '../sources/hash.js';
import { stampOf, type FileStamp, type InputComparison } from './capture.js';
import type { CheckpointManifest, StateRecord } from './manifest.js';
import { relativeInside } from './paths.js';
import { checkOverwrites, checkPlanPaths, CheckpointRefusedError, isCheckpointRefusal, type WriteRules } from './safety.js';
import { COARSEST_GRANULARITY_NS, planTimes, probeGranularity, replayedNs, setTimes, TimeRangeError } from './times.js';

export { CheckpointRefusedError, isCheckpointRefusal, tryResolveLinkInPlan } from './safety.js';

export interface RestoreOptions {
  /** What the restore may write in this working tree. */
  rules: WriteRules;
  /** The checkpoint's inputs compared with the tree's: unchanged ones get their time back, changed ones a new one. */
  inputs: InputComparison;
  /**
   * State paths plugins left out of the plan: the build tool must make them
   * again, so what stands there from an earlier build of this tree goes (when
   * it is known build output; anything else refuses the checkpoint).
   */
  dropped?: ReadonlySet<string>;
  /** Runs the `restoreFile` transform named `name`. */
  transform: (name: string, content: Buffer, info: FileTransformInfo) => Promise<Buffer>;
}

export interface RestoreOutcome {
  restored: string[];
  newestRecordedNs: bigint;
  changedSourceTimeNs: bigint;
  /** Subtracted from every recorded time when it was replayed. */
  timeShiftNs: bigint;
  /** A flat checkpoint: the time its flat time was replayed as (see `replayedNs`). */
  flatTimeNs?: bigint;
  /** Stamps of the restored files right after the time replay, for blob reuse at capture. */
  stamps: Map<string, FileStamp>;
}

/** The oldest and newest time a manifest records, in ns. */
function recordedRange(manifest: CheckpointManifest): { oldestNs: bigint; newestNs: bigint } {
  let oldestNs: bigint | undefined;
  let newestNs = 0n;
  const recorded: Readonly<Record<string, { readonly mtimeNs: string }>>[] = [manifest.state, manifest.sources, manifest.inputs ?? {}];
  for (const records of recorded) {
    for (const record of Object.values(records)) {
      const t = BigInt(record.mtimeNs);
      if (t > newestNs) newestNs = t;
      if (oldestNs === undefined || t < oldestNs) oldestNs = t;
    }
  }
  return { oldestNs: oldestNs ?? newestNs, newestNs };
}

/** The process clock in ns. */
function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A failure while the tree is being written is the checkpoint's refusal: the caller rolls back and builds in full. */
function asRefusal(error: unknown, what: string): unknown {
  if (isCheckpointRefusal(error) || (isOrchestrateError(error) && error.code === 'ERR_INTERRUPTED')) return error;
  return new CheckpointRefusedError(`${what} failed (${error instanceof Error ? error.message : String(error)})`);
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
async function loadBlobs(context: BuildContext, entries: ReadonlyMap<string, StateRecord>): Promise<Map<string, Buffer>> {
  const limit = pLimit(8);
  const wanted = new Map<string, boolean>();
  let kept = 0;
  for (const record of entries.values()) {
    if (!record.blob || wanted.get(record.blob)) continue;
    const small = record.size !== undefined && record.size <= IN_MEMORY_BLOB_BYTES && kept + record.size <= IN_MEMORY_TOTAL_BYTES;
    const keep = record.transform !== undefined || small;
    if (keep && !wanted.has(record.blob)) kept += record.size ?? 0;
    wanted.set(record.blob, keep);
  }
  const contents = new Map<string, Buffer>();
  const store = context.store;
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

/** Restores the state; see the module comment. */
export async function restoreCheckpoint(context: BuildContext, plan: RestorePlan, options: RestoreOptions): Promise<RestoreOutcome> {
  const { manifest, entries } = plan;
  const changes = context.changes ?? NO_CHANGES;
  const sources = context.sources ?? new Map<string, SourceEntry>();
  const { buildDir, sourceDir } = context;
  const { rules } = options;
  checkPlanPaths(rules, buildDir, entries);
  // Times that cannot be re-based below this clock on any grid: refused before a write.
  const range = recordedRange(manifest);
  try {
    planTimes(range, nowNs(), COARSEST_GRANULARITY_NS);
  } catch (error) {
    if (error instanceof TimeRangeError) throw new CheckpointRefusedError(error.message);
    throw error;
  }

  // Links that changed make their dependents see their target's time: date the target too.
  const changed = changedPaths(changes);
  const linkTargets: string[] = [];
  const realSource = await realpath(sourceDir);
  for (const path of changed) {
    if (sources.get(path)?.kind === 'link') {
      const target = await realpath(join(sourceDir, path)).catch(() => undefined);
      if (target !== undefined) {
        if (relativeInside(realSource, target) === undefined) {
          throw new CheckpointRefusedError(
            `the changed link '${path}' points outside the source tree ('${target}'), so its dependents cannot be dated`,
          );
        }
        linkTargets.push(target);
      } // dangling: the tool sees it missing
    }
    // The link's old target too: a tool may have recorded the file it read through the link
    // (cargo's dep-info names the resolved path), and must see that file as changed.
    const recorded = manifest.sources[path];
    if (recorded?.kind === 'link' && recorded.target !== undefined) {
      const old = await realpath(join(sourceDir, dirname(path), recorded.target)).catch(() => undefined);
      if (old !== undefined && relativeInside(realSource, old) !== undefined) linkTargets.push(old);
    }
  }

  const contents = await loadBlobs(context, entries);
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const files = sorted.filter(([, record]) => record.kind !== 'dir' && record.kind !== 'link');
  // Plugins' transforms run before any write, so a refusal leaves the tree untouched.
  const transformed = new Map<string, Buffer>();
  await Promise.all(
    files.map(async ([path, record]) => {
      if (record.transform === undefined) return;
      // Not copied (new memory costs page faults): transforms return new bytes, see `restoreFile`.
      const content = contents.get(record.blob as string) as Buffer;
      const info = { path, absolutePath: join(buildDir, path), context };
      transformed.set(path, await options.transform(record.transform, content, info));
    }),
  );
  checkOverwrites(rules, buildDir, entries, (path, record) => {
    const bytes = transformed.get(path);
    return bytes === undefined ? record.blob : sha256(bytes);
  });

  // Left-out outputs that an earlier build of this tree left there would look up to date to the tool.
  const stale: string[] = [];
  for (const path of options.dropped ?? []) {
    const info = lstatSync(join(buildDir, path), { throwIfNoEntry: false });
    if (!info || info.isDirectory()) continue;
    rules.checkNotSource(path, 'its left-out state file');
    const record = manifest.state[path];
    const same = record?.blob !== undefined && info.isFile() && sha256(readFileSync(join(buildDir, path))) === record.blob;
    if (!rules.isKnownOutput(path) && !same) {
      throw new CheckpointRefusedError(`'${path}' must be built again, but the file there is not known to be build output of this tree`);
    }
    stale.push(path);
  }

  // The writes are many small local operations: done synchronously, without a
  // thread-pool round trip each (the copies of large blobs excepted).
  const written: string[] = [];
  /** Directories this restore created (the top one of each `mkdir -p`), for the rollback. */
  const created: string[] = [];
  const rollBack = (): void => {
    for (const path of written) rmSync(join(buildDir, path), { force: true, recursive: true });
    for (const dir of created.reverse()) rmSync(dir, { force: true, recursive: true });
  };
  const limit = pLimit(8);
  const umask = process.umask();
  try {
    const made = new Set<string>();
    /** Directories this restore created: empty before it, so nothing stands at a path inside them to clear. */
    const fresh = new Set<string>();
    const makeDir = (abs: string): void => {
      if (made.has(abs)) return;
      const first = mkdirSync(abs, { recursive: true });
      if (first !== undefined) {
        created.push(first);
        fresh.add(abs);
      }
      made.add(abs);
    };
    for (const path of stale) rmSync(join(buildDir, path), { force: true });
    for (const [path, record] of sorted) {
      if (record.kind !== 'dir') continue;
      const abs = join(buildDir, path);
      const info = lstatSync(abs, { throwIfNoEntry: false });
      if (info && !info.isDirectory()) rmSync(abs, { force: true });
      if (!info?.isDirectory()) written.push(path);
      makeDir(abs);
    }
    const copies: [abs: string, blob: string, mode: number][] = [];
    for (const [path, record] of sorted) {
      if (record.kind === 'dir') continue;
      const abs = join(buildDir, path);
      const dir = dirname(abs);
      makeDir(dir);
      if (!fresh.has(dir)) clearPath(abs);
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
    rollBack();
    // A blob removed since it was verified (a concurrent gc), a full disk: the checkpoint is not used.
    throw asRefusal(error, 'writing its state');
  }

  // Time: replay every recorded time (re-based below this clock when needed), date every change after them.
  // The grid is probed on files whose times are set right after: no probe file in the tree.
  const timeCandidate = (dir: string): string | undefined => {
    const firstFile = files[0]?.[0];
    if (dir === buildDir && firstFile !== undefined) return join(buildDir, firstFile);
    for (const path of sources.keys()) if (sources.get(path)?.kind !== 'link') return join(sourceDir, path);
    return undefined;
  };
  let granularity = await probeGranularity(buildDir, timeCandidate(buildDir));
  if (sourceDir !== buildDir) {
    const g = await probeGranularity(sourceDir, timeCandidate(sourceDir));
    if (g > granularity) granularity = g;
  }
  let timePlan;
  try {
    timePlan = planTimes(range, nowNs(), granularity);
  } catch (error) {
    rollBack();
    throw error instanceof TimeRangeError ? new CheckpointRefusedError(error.message) : error;
  }
  const { shiftNs, changedNs } = timePlan;
  const replay = (recordedNs: bigint): bigint => replayedNs(timePlan, recordedNs);
  const times = new Map<string, bigint>();
  for (const [path, record] of entries) times.set(join(buildDir, path), replay(BigInt(record.mtimeNs)));
  const changedSet = new Set(changed);
  for (const [path] of sources) {
    const recorded = manifest.sources[path];
    const abs = join(sourceDir, path);
    if (changedSet.has(path)) times.set(abs, changedNs);
    else if (recorded) times.set(abs, replay(BigInt(recorded.mtimeNs)));
  }
  for (const target of linkTargets) times.set(target, changedNs);
  for (const [path, recordedNs] of options.inputs.unchanged) times.set(join(buildDir, path), replay(recordedNs));
  for (const path of options.inputs.changed) times.set(join(buildDir, path), changedNs);
  // Directories last, deepest first, after everything inside them was written.
  const ordered = [...times].sort(([a], [b]) => b.length - a.length);
  try {
    await setTimes(ordered);
  } catch (error) {
    rollBack();
    throw asRefusal(error, 'replaying its times');
  }
  if (shiftNs > 0n) {
    context.logger.info(
      `the checkpoint's times reach this machine's clock: replayed ${Number(shiftNs / 1_000_000n) / 1000} s earlier, in their order`,
    );
  }

  const stamps = new Map<string, FileStamp>();
  for (const [path] of files) {
    const info = lstatSync(join(buildDir, path), { bigint: true, throwIfNoEntry: false });
    if (info) stamps.set(path, stampOf(info));
  }
  return {
    restored: written,
    newestRecordedNs: replay(range.newestNs),
    changedSourceTimeNs: changedNs,
    timeShiftNs: shiftNs,
    ...(timePlan.flatNs === undefined ? {} : { flatTimeNs: timePlan.flatNs }),
    stamps,
  };
}
