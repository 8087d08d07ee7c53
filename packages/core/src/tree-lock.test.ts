import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, isOrchestrateError } from './errors.js';
import { acquireTreeLock, lockDirectory, lockFileFor, realPathLoose, type LockHolder } from './tree-lock.js';

/** A project directory and a private lock directory (through XDG_RUNTIME_DIR). */
async function setup(): Promise<{ dir: string; env: Record<string, string>; locks: string }> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'orchestrate-tree-lock-')));
  const dir = join(root, 'project');
  await mkdir(dir);
  const env = { XDG_RUNTIME_DIR: join(root, 'run') };
  return { dir, env, locks: lockDirectory(env) };
}

/** A pid that ran and is gone. */
async function deadPid(): Promise<number> {
  const child = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout);
}

async function writeLock(file: string, holder: Partial<LockHolder>): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, JSON.stringify({ host: hostname(), command: 'build', since: new Date().toISOString(), token: 'old', ...holder }));
}

describe('acquireTreeLock', () => {
  it('writes one lock file outside the tree naming the directory, pid and host, and removes it on release', async () => {
    const { dir, env, locks } = await setup();
    const lock = await acquireTreeLock({ dirs: [dir, dir], command: 'build', env });
    expect(lock.files).toEqual([lockFileFor(dir, env)]);
    expect(lock.files[0]?.startsWith(`${locks}/`)).toBe(true);
    const holder = JSON.parse(await readFile(lock.files[0] as string, 'utf8')) as LockHolder;
    expect(holder).toMatchObject({ dir, pid: process.pid, host: hostname(), command: 'build' });
    expect(await readdir(dir)).toEqual([]);
    await lock.release();
    await lock.release();
    expect(await readdir(locks)).toEqual([]);
  });

  it('locks a directory once whatever link names it, and a build directory that does not exist yet', async () => {
    const { dir, env } = await setup();
    await symlink(dir, join(dir, '..', 'alias'));
    const lock = await acquireTreeLock({ dirs: [join(dir, '..', 'alias'), join(dir, 'build', 'x')], command: 'build', env });
    expect([...lock.files].sort()).toEqual([lockFileFor(dir, env), lockFileFor(join(dir, 'build', 'x'), env)].sort());
    expect(await realPathLoose(join(dir, '..', 'alias', 'build', 'x'))).toBe(join(dir, 'build', 'x'));
    await lock.release();
  });

  it('fails at once with a busy error naming the directory and the pid when told not to wait', async () => {
    const { dir, env } = await setup();
    const first = await acquireTreeLock({ dirs: [dir], command: 'build', env });
    const error: unknown = await acquireTreeLock({ dirs: [dir], command: 'build', env, wait: false }).catch((e: unknown) => e);
    expect(isOrchestrateError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_BUSY', exitCode: ExitCode.Busy, dir, pid: process.pid, lockFile: first.files[0] });
    expect((error as Error).message).toBe(`'${dir}' is busy: a build is in progress there (pid ${process.pid} on ${hostname()})`);
    await first.release();
  });

  it('waits for the holder, saying so once, and takes the lock when it is released', async () => {
    const { dir, env } = await setup();
    const first = await acquireTreeLock({ dirs: [dir], command: 'build', env });
    const waits: LockHolder[] = [];
    const second = acquireTreeLock({ dirs: [dir], command: 'build', env, pollMs: 10, onWait: (h) => waits.push(h) });
    await new Promise((r) => setTimeout(r, 100));
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatchObject({ dir, pid: process.pid });
    await first.release();
    const lock = await second;
    expect(waits).toHaveLength(1);
    expect(JSON.parse(await readFile(lock.files[0] as string, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('serializes many runs racing for a stale lock', async () => {
    const { dir, env } = await setup();
    await writeLock(lockFileFor(dir, env), { dir, pid: await deadPid() });
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const lock = await acquireTreeLock({ dirs: [dir], command: 'build', env, pollMs: 1 });
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 5));
        inside--;
        await lock.release();
      }),
    );
    expect(most).toBe(1);
    expect((await readdir(lockDirectory(env))).filter((n) => !n.endsWith('.tmp'))).toEqual([]);
  });

  it('takes over the lock of a pid that is gone', async () => {
    const { dir, env } = await setup();
    const pid = await deadPid();
    await writeLock(lockFileFor(dir, env), { dir, pid });
    const stale: Array<LockHolder | undefined> = [];
    const lock = await acquireTreeLock({ dirs: [dir], command: 'build', env, wait: false, onStale: (h) => stale.push(h) });
    expect(stale.map((h) => h?.pid)).toEqual([pid]);
    await lock.release();
  });

  it('takes over the lock of a pid now used by another process (its start time differs)', async () => {
    const { dir, env } = await setup();
    await writeLock(lockFileFor(dir, env), { dir, pid: process.pid, processStart: '1' });
    const lock = await acquireTreeLock({ dirs: [dir], command: 'build', env, wait: false });
    await lock.release();
  });

  it('takes over an unreadable lock file', async () => {
    const { dir, env } = await setup();
    await mkdir(lockDirectory(env), { recursive: true });
    await writeFile(lockFileFor(dir, env), '{"pid":');
    const lock = await acquireTreeLock({ dirs: [dir], command: 'build', env, wait: false });
    await lock.release();
  });

  it("never judges another host's lock stale", async () => {
    const { dir, env } = await setup();
    await writeLock(lockFileFor(dir, env), { dir, pid: await deadPid(), host: `not-${hostname()}` });
    const error: unknown = await acquireTreeLock({ dirs: [dir], command: 'build', env, wait: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BUSY', host: `not-${hostname()}` });
  });

  it('stops waiting when the signal aborts, holding nothing', async () => {
    const { dir, env } = await setup();
    const build = join(dir, 'build');
    const first = await acquireTreeLock({ dirs: [build], command: 'build', env });
    const controller = new AbortController();
    const second = acquireTreeLock({ dirs: [build, dir], command: 'build', env, signal: controller.signal, pollMs: 10 });
    setTimeout(() => controller.abort(), 50);
    await expect(second).rejects.toMatchObject({ code: 'ERR_INTERRUPTED' });
    // The source directory's lock, taken before the build directory's (sorted order), was given back.
    expect(await readdir(lockDirectory(env))).toEqual([basename(lockFileFor(build, env))]);
    await first.release();
  });

  it('does not remove a lock that another run took over', async () => {
    const { dir, env } = await setup();
    const lock = await acquireTreeLock({ dirs: [dir], command: 'build', env });
    await writeLock(lockFileFor(dir, env), { dir, pid: process.pid, token: 'someone-else' });
    await lock.release();
    expect(JSON.parse(await readFile(lockFileFor(dir, env), 'utf8'))).toMatchObject({ token: 'someone-else' });
  });

  it('keeps locks under the system temporary directory, per user, without XDG_RUNTIME_DIR', () => {
    expect(lockDirectory({})).toMatch(new RegExp(`^${tmpdir()}/orchestrate-locks-[^/]+$`));
    expect(lockDirectory({ XDG_RUNTIME_DIR: '/run/user/1000' })).toBe('/run/user/1000/orchestrate-locks');
  });
});
