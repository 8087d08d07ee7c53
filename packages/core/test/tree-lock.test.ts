/**
 * The tree lock with the real CLI: two runs in one tree are serialized (the
 * second waits and says so), `--no-wait` fails with exit code 5 naming the
 * directory and the pid, a lock left by a killed run is taken over, an
 * interrupted run gives its lock back, and nothing of orchestrate's appears
 * in the project directory. The lock directory is the test's own, through
 * XDG_RUNTIME_DIR.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdir, readdir, realpath, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_BIN, listTree } from '@orchestrate/core/testing';
import { ExitCode } from '../src/errors.js';
import { acquireTreeLock, lockDirectory, lockFileFor } from '../src/tree-lock.js';
import { orchestrate, TINY_SOURCES, tinyProject } from './helpers.js';

/** The tiny project's sources, with a link step that sleeps `seconds` so a build holds the lock that long. */
function slowSources(seconds: number): Record<string, string> {
  const makefile = [
    'CC ?= cc',
    'hello: main.o greet.o',
    `\tsleep ${seconds}`,
    '\t$(CC) -o $@ main.o greet.o',
    '%.o: %.c greet.h',
    '\t$(CC) -c -o $@ $<',
    '',
  ];
  return { ...TINY_SOURCES, Makefile: makefile.join('\n') };
}

/** A tiny project (see {@link slowSources}) with its own lock directory, through XDG_RUNTIME_DIR, beside it. */
async function slowProject(
  seconds: number,
): Promise<{ dir: string; real: string; store: string; root: string; env: Record<string, string>; files: Record<string, string> }> {
  const files = slowSources(seconds);
  const project = await tinyProject({ files });
  const env = { XDG_RUNTIME_DIR: join(project.root, 'run') };
  return { ...project, real: await realpath(project.dir), env, files };
}

/** The options of {@link start}'s subprocesses: their result types follow from `reject: false`. */
type StartOptions = { cwd: string; env: Record<string, string | undefined>; reject: false; stdin: 'ignore' };

/** `orchestrate args…` as a subprocess, not awaited. */
function start(args: readonly string[], options: { cwd: string; store: string; env: Record<string, string> }): ResultPromise<StartOptions> {
  const execaOptions: StartOptions = {
    cwd: options.cwd,
    env: { CI: 'true', ORCHESTRATE_STORE: undefined, ORCHESTRATE_CWD: undefined, ORCHESTRATE_NO_WAIT: undefined, ...options.env },
    reject: false,
    stdin: 'ignore',
  };
  return execa(process.execPath, [CLI_BIN, ...args, '--store', options.store], execaOptions);
}

/** Waits until a lock file exists in `dir`. */
async function lockAppears(dir: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (names.some((n) => n.endsWith('.lock'))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no lock file appeared in ${dir}`);
}

/** The listing of a plain `make` of the same sources in a fresh copy: what the build itself leaves. */
async function cleanMakeListing(root: string, files: Record<string, string>): Promise<string[]> {
  const copy = join(root, 'clean-make');
  await mkdir(copy, { recursive: true });
  for (const [path, content] of Object.entries(files)) await writeFile(join(copy, path), content);
  await execa('make', [], { cwd: copy });
  return listTree(copy);
}

describe('the tree lock', () => {
  it('serializes two builds started at once: both succeed, the second waited and said so once, the program is right', async () => {
    const { dir, real, store, root, env, files } = await slowProject(1);
    const a = start(['build'], { cwd: dir, store, env });
    const b = start(['build'], { cwd: dir, store, env });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.exitCode, String(ra.stderr)).toBe(0);
    expect(rb.exitCode, String(rb.stderr)).toBe(0);
    const waited = [
      { run: ra, other: b.pid },
      { run: rb, other: a.pid },
    ].filter(({ run }) => String(run.stderr).includes('waiting for the build in progress'));
    expect(waited).toHaveLength(1);
    const { run, other } = waited[0]!;
    const lines = String(run.stderr)
      .split('\n')
      .filter((l) => l.includes('waiting for'));
    expect(lines).toEqual([`[orchestrate] waiting for the build in progress in ${real} (pid ${other}) …`]);
    expect((await execa(join(dir, 'hello'))).stdout).toBe('hello');
    // Nothing of orchestrate's in the tree: exactly what a plain make leaves (and the config); the lock is gone.
    expect(await listTree(dir)).toEqual([...(await cleanMakeListing(root, files)), 'orchestrate.config.json'].sort());
    expect(await readdir(lockDirectory(env))).toEqual([]);
  });

  it('--no-wait fails at once with exit code 5 while another run holds the lock, naming the directory and the pid, and leaves the tree as it was', async () => {
    const { dir, real, store, env } = await tinyProject().then(async (p) => ({
      ...p,
      real: await realpath(p.dir),
      env: { XDG_RUNTIME_DIR: join(p.root, 'run') },
    }));
    const before = await listTree(dir);
    const held = await acquireTreeLock({ dirs: [dir], command: 'build', env });
    try {
      const run = await orchestrate(['build', '--no-wait', '--json'], { cwd: dir, store, env });
      expect(run.exitCode, run.stderr).toBe(ExitCode.Busy);
      expect(run.exitCode).toBe(5);
      const message = `'${real}' is busy: a build is in progress there (pid ${process.pid} on ${hostname()})`;
      expect(run.json).toEqual({ schemaVersion: 1, error: { code: 'ERR_BUSY', message, exitCode: 5 } });
      expect(run.stderr).toContain(`error: ${message}\n`);
      expect(run.stderr).toContain(`hint: run again without --no-wait`);
      // The same from the environment, for prepare and restore.
      for (const command of ['prepare', 'restore']) {
        const fromEnv = await orchestrate([command], { cwd: dir, store, env: { ...env, ORCHESTRATE_NO_WAIT: '1' } });
        expect(fromEnv.exitCode, fromEnv.stderr).toBe(5);
        expect(fromEnv.stderr).toContain(`error: ${message}`);
      }
      expect(await listTree(dir)).toEqual(before);
      // The holder's lock is untouched.
      expect(await readdir(lockDirectory(env))).toEqual([basename(lockFileFor(real, env))]);
    } finally {
      await held.release();
    }
  });

  it('--no-wait fails with exit code 5 while a real build runs, naming its pid; that build goes on and succeeds', async () => {
    const { dir, real, store, env } = await slowProject(2);
    const running = start(['build'], { cwd: dir, store, env });
    await lockAppears(lockDirectory(env));
    const refused = await orchestrate(['restore', '--no-wait'], { cwd: dir, store, env });
    expect(refused.exitCode, refused.stderr).toBe(5);
    expect(refused.stderr).toContain(`error: '${real}' is busy: a build is in progress there (pid ${running.pid} on ${hostname()})`);
    const done = await running;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    expect((await execa(join(dir, 'hello'))).stdout).toBe('hello');
  });

  it('takes over a lock left by a killed run (its pid is gone), without waiting', async () => {
    const { dir, real, store, env } = await slowProject(0);
    const gone = Number((await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])).stdout);
    const file = lockFileFor(real, env);
    await mkdir(lockDirectory(env), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({ dir: real, pid: gone, host: hostname(), command: 'build', since: new Date().toISOString(), token: 'killed' }),
    );
    const run = await orchestrate(['build', '--no-wait'], { cwd: dir, store, env: { ...env, ORCHESTRATE_DEBUG: 'orchestrate' } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('waiting for');
    expect(run.stderr).toContain(`taking over the lock of pid ${gone}, which is gone`);
    expect((await execa(join(dir, 'hello'))).stdout).toBe('hello');
    expect(await readdir(lockDirectory(env))).toEqual([]);
  });

  it('gives the lock back when interrupted (SIGINT), and the waiting run then goes on', async () => {
    const { dir, store, env } = await slowProject(3);
    const first = start(['build'], { cwd: dir, store, env });
    await lockAppears(lockDirectory(env));
    const second = start(['build'], { cwd: dir, store, env });
    // Until the second run says it waits.
    const waiting = new Promise<void>((resolve) => {
      let seen = '';
      second.stderr?.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('waiting for the build in progress')) resolve();
      });
    });
    await waiting;
    first.kill('SIGINT');
    const interrupted = await first;
    expect(interrupted.exitCode, String(interrupted.stderr)).toBe(ExitCode.Interrupted);
    const after = await second;
    expect(after.exitCode, String(after.stderr)).toBe(0);
    expect((await execa(join(dir, 'hello'))).stdout).toBe('hello');
    expect(await readdir(lockDirectory(env))).toEqual([]);
  });
});
