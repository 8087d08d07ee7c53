/**
 * Nanosecond file times. make, ninja and cargo compare nanoseconds, while
 * Node's `fs.utimes` rounds to microseconds, so times are set through a small
 * native helper (`native/set-times.c`, built with the package and, when
 * missing, compiled on first use into the user's cache directory).
 */
import { spawnCapture } from '../process.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile, lstat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-info.js';
import { OrchestrateError, ExitCode } from '../errors.js';

const SOURCE = join(PACKAGE_ROOT, 'native/set-times.c');
const PREBUILT = join(PACKAGE_ROOT, 'native/set-times');

let helperPromise: Promise<string> | undefined;

async function compileHelper(): Promise<string> {
  if (existsSync(PREBUILT)) return PREBUILT;
  const source = await readFile(SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const cacheHome = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  const dir = join(cacheHome, 'orchestrate', 'bin');
  const binary = join(dir, `set-times-${digest}`);
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const temp = `${binary}.${process.pid}.tmp`;
  const cc = process.env['ORCHESTRATE_HOST_CC'] || 'cc';
  const result = await spawnCapture(cc, ['-O2', '-o', temp, SOURCE]);
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
  const result = await spawnCapture(await timeHelper(), [], { input });
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
 * The file system's timestamp granularity at `dir`, in ns (1 on ext4, 1e9 on
 * a 1 s file system, 2e9 on FAT): a probe file is given a time with every
 * digit set and read back.
 */
export async function probeGranularity(dir: string): Promise<bigint> {
  const cached = probeCache.get(dir);
  if (cached !== undefined) return cached;
  // A time the file system already holds with a non-zero last digit can only come
  // from a 1 ns grid: no probe file, no helper run.
  const own = await stat(dir, { bigint: true }).then((s) => s.mtimeNs, () => 0n);
  if (own % 10n !== 0n) {
    probeCache.set(dir, 1n);
    return 1n;
  }
  const probe = join(dir, `.orchestrate-probe-${process.pid}`);
  await writeFile(probe, '');
  try {
    const wanted = 1_500_000_001_123_456_789n;
    await setTimes([[probe, wanted]]);
    const got = (await stat(probe, { bigint: true })).mtimeNs;
    let granularity = 1n;
    for (const step of [1n, 1_000n, 1_000_000n, 10_000_000n, 1_000_000_000n, 2_000_000_000n]) {
      if (got === wanted - (wanted % step) || got === wanted - (wanted % step) + step) {
        granularity = step;
        if (got === wanted) break;
      }
    }
    probeCache.set(dir, granularity);
    return granularity;
  } finally {
    await rm(probe, { force: true });
  }
}
