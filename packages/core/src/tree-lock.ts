/**
 * One build at a time per tree. A run locks the real paths of its source and
 * build directories (one lock each, taken in sorted order so two runs never
 * wait on each other), because a restore writes both: the state into the
 * build directory, the replayed times onto the sources.
 *
 * A lock is a small JSON file outside the user's tree:
 *
 *   // $XDG_RUNTIME_DIR/orchestrate-locks/<sha256 of the real path>.lock
 *   // <tmpdir>/orchestrate-locks-<uid>/<sha256 of the real path>.lock   (without XDG_RUNTIME_DIR)
 *
 * It is created whole and at once (written to a temporary file, then
 * `link`ed to its name, which fails when the name exists), and records the
 * holder's pid, host name and process start time. A lock whose holder is
 * gone (same host, and the pid no longer runs, is a zombie, or is another
 * process with a reused pid) is stale and taken over by creating the next
 * generation of the lock (`<sha256>.<n>.lock`); a lock of another host is
 * never judged, only waited for.
 *
 * proper-lockfile was considered: it records no pid (so a busy error could
 * not name the holder) and judges staleness by an mtime it refreshes on a
 * timer, so a killed holder blocks the next build for its `stale` period.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, lstat, mkdir, readdir, readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError, TreeBusyError } from './errors.js';

/** What a lock file holds. */
export interface LockHolder {
  /** The locked directory (a real path). */
  dir: string;
  pid: number;
  host: string;
  /** The holder's start time in clock ticks since boot (`/proc/<pid>/stat`), where the system has it. */
  processStart?: string;
  /** What the holder runs, e.g. `build`. */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
  /** Tells this holder's lock from a later one with the same pid. */
  token: string;
}

export interface TreeLockOptions {
  /** Directories to lock (the source and the build directory); duplicates and links to the same one count once. */
  dirs: readonly string[];
  /** Recorded in the lock, e.g. `build`. */
  command: string;
  /** Wait for the holder to finish (the default), or throw a {@link TreeBusyError} at once. */
  wait?: boolean;
  /** Called once per lock when the run has to wait for it. */
  onWait?: (holder: LockHolder) => void;
  /** Called when a stale lock is taken over. */
  onStale?: (holder: LockHolder | undefined, file: string) => void;
  /** Aborting it while waiting throws an {@link InterruptedError}. */
  signal?: AbortSignal;
  /** For `XDG_RUNTIME_DIR`; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** How often a waiting run looks again, in ms. */
  pollMs?: number;
}

/** Locks held by one run. */
export interface TreeLock {
  /** The lock files held. */
  readonly files: readonly string[];
  /** Removes the lock files (only while they are still this run's); safe to call twice. */
  release(): Promise<void>;
}

/** The directory holding the lock files. */
export function lockDirectory(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime) return join(runtime, 'orchestrate-locks');
  // Per user: a directory made by one user in a shared /tmp would be closed to the others.
  return join(tmpdir(), `orchestrate-locks-${userId()}`);
}

function userId(): string {
  try {
    return String(userInfo().uid >= 0 ? userInfo().uid : userInfo().username);
  } catch {
    return 'user';
  }
}

/** The real path of `path`, through its nearest existing ancestor when it does not exist yet (a build directory before the first configure). */
export async function realPathLoose(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return join(await realPathLoose(parent), basename(path));
  }
}

/** The lock file of directory `realDir` (a real path). */
export function lockFileFor(realDir: string, env?: Readonly<Record<string, string | undefined>>): string {
  return join(lockDirectory(env), `${createHash('sha256').update(realDir).digest('hex')}.lock`);
}

/** Takes the lock of every directory of `options.dirs`, waiting for other runs unless `wait` is false. */
export async function acquireTreeLock(options: TreeLockOptions): Promise<TreeLock> {
  const dirs = [...new Set(await Promise.all(options.dirs.map(realPathLoose)))].sort();
  const lockDir = lockDirectory(options.env);
  await mkdir(lockDir, { recursive: true, mode: 0o700 });
  const held: Held[] = [];
  const releaseAll = async (): Promise<void> => {
    for (const h of held.splice(0).reverse()) await releaseOne(h);
  };
  // A second Ctrl-C exits the process at once: the lock files go with it (a SIGKILL leaves them, stale).
  const onExit = (): void => {
    for (const h of held) releaseOneSync(h);
  };
  process.on('exit', onExit);
  try {
    for (const dir of dirs) held.push(await acquireOne(dir, lockFileFor(dir, options.env), options));
  } catch (error) {
    await releaseAll();
    process.off('exit', onExit);
    throw error;
  }
  return {
    files: held.map((h) => h.file),
    release: async () => {
      await releaseAll();
      process.off('exit', onExit);
    },
  };
}

interface Held {
  file: string;
  token: string;
}

/**
 * The generations of a lock, highest first: `<key>.lock` is generation 0,
 * `<key>.<n>.lock` generation n. The lock is held by the writer of the highest
 * generation while it runs.
 */
async function generations(file: string): Promise<{ gen: number; file: string }[]> {
  const dir = dirname(file);
  const key = basename(file, '.lock');
  const out: { gen: number; file: string }[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name === `${key}.lock`) out.push({ gen: 0, file: join(dir, name) });
    else {
      const match = /^([0-9a-f]+)\.(\d+)\.lock$/.exec(name);
      if (match?.[1] === key) out.push({ gen: Number(match[2]), file: join(dir, name) });
    }
  }
  return out.sort((a, b) => b.gen - a.gen);
}

/** The file of generation `gen` of the lock whose generation 0 is `file`. */
function generationFile(file: string, gen: number): string {
  return gen === 0 ? file : `${file.slice(0, -'.lock'.length)}.${gen}.lock`;
}

/**
 * Takes the lock of `dir` (generation 0: `file`). A lock file is never removed
 * by anyone but its writer, except a dead one below a newer generation: a run
 * that finds the highest generation's writer gone takes the next generation
 * (a name only one run can create), so two runs taking over the same stale
 * lock cannot both hold it, and no live lock is ever moved or removed.
 */
async function acquireOne(dir: string, file: string, options: TreeLockOptions): Promise<Held> {
  const me: LockHolder = {
    dir,
    pid: process.pid,
    host: hostname(),
    command: options.command,
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const start = processStart(process.pid);
  if (start !== undefined) me.processStart = start;
  const temp = `${file}.${process.pid}.${me.token}.tmp`;
  await writeFile(temp, `${JSON.stringify(me)}\n`, { mode: 0o600 });
  let told = false;
  try {
    for (;;) {
      if (options.signal?.aborted) throw new InterruptedError('SIGINT');
      const gens = await generations(file);
      const top = gens[0];
      if (top) {
        const current = await readHolder(top.file);
        if (current === 'gone') continue;
        if (current.holder !== undefined && !isStale(current.holder)) {
          const holder = current.holder;
          if (options.wait === false) throw new TreeBusyError(holder.dir, holder.pid, holder.host, top.file);
          if (!told) {
            told = true;
            options.onWait?.(holder);
          }
          await sleep(options.pollMs ?? 200, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
          continue;
        }
        options.onStale?.(current.holder, top.file);
      }
      const mine = generationFile(file, top ? top.gen + 1 : 0);
      try {
        await link(temp, mine);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        continue; // another run took this generation first
      }
      // A name freed by the clean-up below can be taken late by a run that looked long ago: a higher
      // generation means the lock is someone else's.
      const now = await generations(file);
      if ((now[0]?.gen ?? -1) > (top ? top.gen + 1 : 0)) {
        await unlink(mine).catch(() => undefined);
        continue;
      }
      // The dead generations below ours go (only after ours exists, and only dead ones).
      for (const older of now) {
        if (older.file === mine) continue;
        const holder = await readHolder(older.file);
        if (holder !== 'gone' && (holder.holder === undefined || isStale(holder.holder))) await unlink(older.file).catch(() => undefined);
      }
      return { file: mine, token: me.token };
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The lock's holder (`undefined` when the file cannot be parsed) and its inode, or `gone` when it was removed meanwhile. */
async function readHolder(file: string): Promise<{ holder: LockHolder | undefined; ino: bigint } | 'gone'> {
  let ino: bigint;
  let text: string;
  try {
    ino = (await lstat(file, { bigint: true })).ino;
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  return { holder: parseHolder(text), ino };
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.dir !== 'string') return undefined;
    return value as LockHolder;
  } catch {
    return undefined;
  }
}

/** True when the holder is known to be gone: same host, and its pid does not run, is a zombie, or is a later process. */
export function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const stat = procStat(holder.pid);
  if (stat === undefined) return false;
  if (stat.state === 'Z' || stat.state === 'X') return true;
  return holder.processStart !== undefined && stat.start !== holder.processStart;
}

/** State and start time of `pid` from `/proc` (Linux); `undefined` elsewhere. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, the fields after the last ')' do not.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19]; // field 22, starttime
    return state === undefined || start === undefined ? undefined : { state, start };
  } catch {
    return undefined;
  }
}

function processStart(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/** Removes `held.file` when it still holds this run's token. */
async function releaseOne(held: Held): Promise<void> {
  const text = await readFile(held.file, 'utf8').catch(() => undefined);
  if (text === undefined || parseHolder(text)?.token !== held.token) return;
  await unlink(held.file).catch(() => undefined);
}

function releaseOneSync(held: Held): void {
  try {
    if (parseHolder(readFileSync(held.file, 'utf8'))?.token === held.token) unlinkSync(held.file);
  } catch {
    // gone already
  }
}
