/**
 * Nanosecond file times. make, ninja and cargo compare nanoseconds, while
 * Node's `fs.utimes` rounds to microseconds, so times are set through a small
 * native helper (`native/set-times.c`, built with the package and, when
 * missing, compiled on first use into the user's cache directory, or, where
 * there is none to write (see `cache-home.ts`), into a temporary directory of
 * the process's own).
 */
import { runProcess } from '../process.js';
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, stat, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';
import { OrchestrateError, ExitCode } from '../errors.js';
import { tryCacheDir } from '../cache-home.js';
import { FLAT_EPOCH_NS } from './flat-times.js';

const SOURCE = join(PACKAGE_ROOT, 'native/set-times.c');
const PREBUILT = join(PACKAGE_ROOT, 'native/set-times');

let helperPromise: Promise<string> | undefined;

async function compileHelper(): Promise<string> {
  if (existsSync(PREBUILT)) return PREBUILT;
  const source = await readFile(SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const cached = tryCacheDir('bin');
  let dir: string;
  if (cached !== undefined) {
    dir = cached;
    await mkdir(dir, { recursive: true });
  } else {
    // No cache to keep it in: compiled for this process, removed when it exits.
    dir = await mkdtemp(join(tmpdir(), 'orchestrate-bin-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const binary = join(dir, `set-times-${digest}`);
  if (existsSync(binary)) return binary;
  const temp = `${binary}.${process.pid}.tmp`;
  const cc = process.env['ORCHESTRATE_HOST_CC'] || 'cc';
  const result = await runProcess(cc, ['-O2', '-o', temp, SOURCE]);
  if (result.failed) {
    throw new OrchestrateError(
      'ERR_HELPER',
      `cannot build the nanosecond time helper from ${SOURCE} with '${cc}': ${(result.error?.message ?? result.stderr).trim()}`,
      ExitCode.Plugin,
      { hint: 'install a C compiler (cc) or set ORCHESTRATE_HOST_CC' },
    );
  }
  await rename(temp, binary);
  return binary;
}

/** Path of the helper binary that sets times with nanosecond precision. */
export function timeHelper(): Promise<string> {
  helperPromise ??= compileHelper();
  return helperPromise;
}

/** Sets the modification (and access) time of each path, in ns, without following links. */
export async function setTimes(entries: Iterable<readonly [path: string, mtimeNs: bigint]>): Promise<void> {
  const parts: string[] = [];
  for (const [path, ns] of entries) parts.push(ns.toString(), path);
  if (parts.length === 0) return;
  const input = `${parts.join('\0')}\0`;
  const result = await runProcess(await timeHelper(), [], { input });
  if (result.failed) {
    throw new OrchestrateError(
      'ERR_SET_TIMES',
      `cannot set file times: ${(result.error?.message ?? result.stderr).trim().split('\n').slice(0, 5).join('; ')}`,
      ExitCode.Plugin,
    );
  }
}

/** The modification time of `path` in ns, without following links; `undefined` when absent. */
export async function tryMtimeNs(path: string): Promise<bigint | undefined> {
  try {
    return (await lstat(path, { bigint: true })).mtimeNs;
  } catch {
    return undefined;
  }
}

const probeCache = new Map<string, bigint>();

/**
 * A grid every file system's timestamps fall on (1 ns, 1 µs, 1 ms, 10 ms, 1 s
 * and 2 s all divide it): used where the real grid could not be probed.
 */
export const COARSEST_GRANULARITY_NS = 2_000_000_000n;

/**
 * The file system's timestamp granularity at `dir`, in ns (1 on ext4, 1e9 on
 * a 1 s file system, 2e9 on FAT). A time the directory already holds with a
 * non-zero last digit can only come from a 1 ns grid; otherwise `file` (one
 * whose time the caller sets right after, so nothing is left changed) is given
 * a time with every digit set and read back. Without such a file the answer
 * is {@link COARSEST_GRANULARITY_NS}: no probe file is ever made in the
 * user's tree (a killed run would leave it behind).
 */
export async function probeGranularity(dir: string, file?: string): Promise<bigint> {
  const cached = probeCache.get(dir);
  if (cached !== undefined) return cached;
  const own = await stat(dir, { bigint: true }).then(
    (s) => s.mtimeNs,
    () => 0n,
  );
  if (own % 10n !== 0n) {
    probeCache.set(dir, 1n);
    return 1n;
  }
  if (file === undefined) return COARSEST_GRANULARITY_NS;
  const wanted = 1_500_000_001_123_456_789n;
  await setTimes([[file, wanted]]);
  const got = (await lstat(file, { bigint: true })).mtimeNs;
  let granularity = COARSEST_GRANULARITY_NS;
  for (const step of [1n, 1_000n, 1_000_000n, 10_000_000n, 1_000_000_000n, 2_000_000_000n]) {
    if (got === wanted - (wanted % step) || got === wanted - (wanted % step) + step) {
      granularity = step;
      break;
    }
  }
  probeCache.set(dir, granularity);
  return granularity;
}

/** The largest time a file system or build tool holds: a signed 64-bit count of nanoseconds. */
const MAX_TIME_NS = (1n << 63n) - 1n;
/** The smallest time replayed: ninja takes an mtime of 0 for a missing file. */
const MIN_TIME_NS = 1n;
/**
 * How far behind the process clock the kernel's file times may lag: they come
 * from a coarse clock, updated every tick (1 to 10 ms).
 */
const KERNEL_CLOCK_LAG_NS = 20_000_000n;

/** How recorded times are replayed; see {@link planTimes}. */
export interface TimePlan {
  /** Subtracted from every recorded time (0 unless the checkpoint's times reach this machine's "now"). */
  readonly shiftNs: bigint;
  /** The time of every added or changed source: after every replayed time, before anything the build writes. */
  readonly changedNs: bigint;
  /**
   * A checkpoint recorded with `times: flat` (its newest time is the flat
   * time): the time its flat time is replayed as, one grid step before
   * {@link changedNs}; undefined otherwise. See {@link replayedNs}.
   */
  readonly flatNs?: bigint;
}

/**
 * The time a recorded time is replayed as: the flat time of a flat checkpoint
 * becomes {@link TimePlan.flatNs}, every other time is shifted by
 * {@link TimePlan.shiftNs}.
 *
 * Why the flat time (2001-09-09) is not replayed as itself: the build tools
 * compare the restored outputs with inputs outside the build too (ninja's
 * deps log lists system headers and CMake's own modules, `-MD` lists the
 * system headers for make), and outside the Nix store (whose files all date
 * from 1 s) those are newer than 2001: every output reading one would
 * rebuild, and CMake would configure again. Replayed just before the changed
 * sources' time, the flat outputs are newer than every file that existed
 * before the restore and older than every changed source. The order of the
 * recorded times is kept: the flat time is their newest, and the earlier
 * ones (the unpack's 1 s) stay as they are.
 */
export function replayedNs(plan: TimePlan, recordedNs: bigint): bigint {
  return plan.flatNs !== undefined && recordedNs === FLAT_EPOCH_NS ? plan.flatNs : recordedNs - plan.shiftNs;
}

/** Thrown by {@link planTimes} for times that cannot be replayed; the restore turns it into a refusal. */
export class TimeRangeError extends Error {
  override readonly name = 'TimeRangeError';
}

/**
 * Re-bases a checkpoint's recorded times below this machine's clock. Its times
 * are an order, not a clock (the machine that saved it may run ahead, or the
 * manifest may lie), so: everything restored keeps its recorded order; every
 * added or changed source gets a time strictly after all of them; and all of
 * it lies before anything the build will write, so an output the build makes
 * is always newer than the restored ones that depend on it. Times far enough
 * in the past are replayed exactly (shift 0), which keeps tools that record
 * mtimes as values (cargo's fingerprints) fresh; newer ones are all shifted
 * down by one whole number of grid steps.
 */
export function planTimes(range: { oldestNs: bigint; newestNs: bigint }, nowNs: bigint, granularityNs: bigint): TimePlan {
  const { oldestNs, newestNs } = range;
  if (oldestNs < MIN_TIME_NS || newestNs > MAX_TIME_NS) {
    throw new TimeRangeError(`its recorded times run from ${oldestNs} to ${newestNs} ns, outside what a file system can hold`);
  }
  // The last grid step that starts before the kernel's clock can have reached, less one step:
  // whatever the build writes falls on a later step.
  const ceiling = nowNs - KERNEL_CLOCK_LAG_NS;
  const changedNs = ceiling - (((ceiling % granularityNs) + granularityNs) % granularityNs) - granularityNs;
  let shiftNs = 0n;
  if (newestNs >= changedNs) {
    // Down by whole steps, so the order survives the file system's truncation.
    const over = newestNs - changedNs + granularityNs;
    shiftNs = ((over + granularityNs - 1n) / granularityNs) * granularityNs;
  }
  if (oldestNs - shiftNs < MIN_TIME_NS) {
    throw new TimeRangeError(
      `its recorded times run from ${oldestNs} to ${newestNs} ns, a span that cannot be re-based below this machine's clock (${nowNs} ns)`,
    );
  }
  // A flat checkpoint: nothing after the flat time, so no shift either.
  return newestNs === FLAT_EPOCH_NS ? { shiftNs, changedNs, flatNs: changedNs - granularityNs } : { shiftNs, changedNs };
}
