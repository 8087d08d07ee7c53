/**
 * examples/custom-plugin end to end: a third-party plugin (plain ES module,
 * loaded from an .mjs config by the real CLI, as a subprocess) that builds a
 * hand-written build.ninja with ninja. A full build saves a checkpoint; a
 * fresh copy at another path with one edited unit restores it, recompiles
 * exactly that unit and links a program equal to a clean build's.
 */
import { execa } from 'execa';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalStore, type CheckpointManifest } from '@orchestrate/core';
import { copyProject, createCompilerLog, diffTrees, tempDir, type CompilerLog } from '@orchestrate/core/testing';
import { orchestrate, storeManifests } from './helpers.js';

const REPO = resolve(import.meta.dirname, '../../..');
const EXAMPLE = join(REPO, 'examples/custom-plugin');
const EDIT = (text: string): string => text.replace('"hello from ninja"', '"hello from a checkpoint"');

let root: string;
let store: string;
let cc: CompilerLog;
let env: Record<string, string>;
let counter = 0;

/**
 * A fresh copy of the example at a new path, as a clone gives it (new mtimes,
 * no out/), with @orchestrate/core installed in its node_modules as a user
 * of the plugin has it.
 */
async function freshCopy(label: string, change?: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, `${String(counter++).padStart(2, '0')}-${label}`, 'custom-plugin');
  await copyProject(EXAMPLE, dir);
  await execa('git', ['init', '-q'], { cwd: dir }); // a work tree: sources from git, node_modules and out/ ignored
  await mkdir(join(dir, 'node_modules/@orchestrate'), { recursive: true });
  await symlink(join(REPO, 'packages/core'), join(dir, 'node_modules/@orchestrate/core'));
  if (change) await change(dir);
  return dir;
}

async function editGreet(dir: string): Promise<void> {
  const file = join(dir, 'src/greet.c');
  await writeFile(file, EDIT(await readFile(file, 'utf8')));
}

/** `orchestrate build --json` with the recording compiler as CC. */
async function build(dir: string, extraEnv: Record<string, string> = {}) {
  await cc.reset();
  const run = await orchestrate(['build', '--json'], { cwd: dir, store, env: { ...env, ...extraEnv } });
  return { run, units: await cc.units() };
}

/** What a user without orchestrate does: ninja in a fresh copy. */
async function cleanBuild(dir: string): Promise<void> {
  await execa('ninja', [], { cwd: dir, env: { ...process.env, ...env }, stdin: 'ignore' });
}

async function program(dir: string): Promise<string> {
  return String((await execa(join(dir, 'out/hello'), [], { cwd: dir })).stdout);
}

/**
 * `.ninja_deps` (version 4) with every recorded mtime moved by `skewNs`:
 * records are a uint32 size (high bit set for a deps record) and a payload; a
 * deps record's payload is the output's id, its mtime as two uint32 (low,
 * high), then the ids of its inputs.
 */
function shiftNinjaDeps(content: Buffer, skewNs: bigint): Buffer {
  const out = Buffer.from(content);
  const header = '# ninjadeps\n';
  expect(out.toString('latin1', 0, header.length)).toBe(header);
  expect(out.readUInt32LE(header.length)).toBe(4);
  let offset = header.length + 4;
  let shifted = 0;
  while (offset < out.length) {
    const word = out.readUInt32LE(offset);
    const size = word & 0x7fffffff;
    if (word & 0x80000000) {
      const at = offset + 8;
      const mtime = (BigInt(out.readUInt32LE(at + 4)) << 32n) | BigInt(out.readUInt32LE(at));
      const moved = mtime + skewNs;
      out.writeUInt32LE(Number(moved & 0xffffffffn), at);
      out.writeUInt32LE(Number(moved >> 32n), at + 4);
      shifted++;
    }
    offset += 4 + size;
  }
  expect(shifted).toBe(3);
  return out;
}

/** The outputs, without ninja's logs (which hold times and durations). */
const outputs = (path: string): boolean => path.startsWith('out/') && !/\/\.ninja_(log|deps)$/.test(path);

beforeAll(async () => {
  root = await tempDir('orchestrate-custom-plugin-');
  store = join(root, 'store');
  cc = await createCompilerLog(join(root, 'cc'));
  env = { CC: cc.path, ...cc.env };
});

describe('examples/custom-plugin (ninja, a third-party plugin from an .mjs config)', () => {
  let saved: string;

  it('builds in full without a checkpoint, with ninja, and saves one holding the outputs and both ninja logs', async () => {
    const a = await freshCopy('A');
    const { run, units } = await build(a);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', reason: "no checkpoint of project 'custom-plugin-example' in " + store });
    expect(units).toEqual(['src/count.c', 'src/greet.c', 'src/main.c']);
    expect(await program(a)).toBe('hello from ninja (14 letters)');
    saved = run.json?.['saved'] as string;
    const [loaded] = await (await LocalStore.open(store)).loadCheckpoints('custom-plugin-example');
    const manifest = loaded && 'manifest' in loaded ? loaded.manifest : undefined;
    expect(
      Object.keys(manifest?.state ?? {})
        .filter((p) => manifest?.state[p]?.kind !== 'dir')
        .sort(),
    ).toEqual(['.ninja_deps', '.ninja_log', 'hello', 'obj/count.o', 'obj/greet.o', 'obj/main.o']);
    expect(manifest?.fingerprint).toMatchObject({
      'ninja.program': expect.stringContaining('ninja'),
      'toolchain.cc': expect.stringContaining(cc.path),
    });
  });

  it('in a fresh copy at another path with one edited unit: restores, recompiles exactly that unit, and equals a clean build', async () => {
    const b = await freshCopy('B', editGreet);
    const { run, units } = await build(b);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'incremental', reason: null, restored: saved, changes: { modified: ['src/greet.c'] } });
    expect(units).toEqual(['src/greet.c']);
    expect(await program(b)).toBe('hello from a checkpoint (20 letters)');

    const c = await freshCopy('C', editGreet);
    await cleanBuild(c);
    expect(await program(c)).toBe(await program(b));
    expect(await diffTrees(b, c, outputs)).toEqual([]);
  });

  it('with a header edited: recompiles exactly the units that include it (from the restored .ninja_deps)', async () => {
    const b = await freshCopy('header', async (dir) => {
      await writeFile(join(dir, 'src/greet.h'), `${await readFile(join(dir, 'src/greet.h'), 'utf8')}/* edited */\n`);
    });
    const { run, units } = await build(b);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'incremental' });
    expect(units).toEqual(['src/greet.c', 'src/main.c']); // count.c includes count.h only
  });

  it('with a flag changed in build.ninja: ninja sees the changed command from the restored .ninja_log and recompiles every unit', async () => {
    const b = await freshCopy('flags', async (dir) => {
      const file = join(dir, 'build.ninja');
      await writeFile(file, (await readFile(file, 'utf8')).replace('cflags = -O2', 'cflags = -O1'));
    });
    const { run, units } = await build(b);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'incremental', changes: { modified: ['build.ninja'] } });
    expect(units).toEqual(['src/count.c', 'src/greet.c', 'src/main.c']);
    expect(await program(b)).toBe('hello from ninja (14 letters)');
  });

  it('with another compiler in a built tree: the fingerprint names toolchain.cc, and the full build recompiles every unit', async () => {
    const b = await freshCopy('compiler');
    const warm = await build(b);
    expect(warm.run.json).toMatchObject({ mode: 'incremental' });
    expect(warm.units).toEqual([]);
    const other = await createCompilerLog(join(root, 'cc-other'));
    const run = await orchestrate(['build', '--json'], { cwd: b, store, env: { CC: other.path, ...other.env } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toMatch(/^fingerprint differs from checkpoint [0-9a-f]{12}: .*toolchain\.cc/);
    // The objects there were the other compiler's, and ninja's commands do not name it: the plugin cleans first.
    expect(await other.units()).toEqual(['src/count.c', 'src/greet.c', 'src/main.c']);
  });
});

describe('a checkpoint whose recorded times lie an hour ahead (saved by a machine whose clock ran ahead)', () => {
  // With restat, ninja compares an output's mtime in .ninja_log, not the file's, with its inputs: left an
  // hour ahead while the restore moved the files' times back, the log would hide the edit (nothing rebuilt).
  const restat = async (dir: string): Promise<void> => {
    const file = join(dir, 'build.ninja');
    await writeFile(file, (await readFile(file, 'utf8')).replace('  deps = gcc\n', '  deps = gcc\n  restat = 1\n'));
  };

  it('restores with its times re-based, the plugin moves the .ninja_log times with them, and an edit (restat rule) recompiles exactly its unit', async () => {
    const S = 1_000_000_000n;
    const skew = 3600n * S;
    const a = await freshCopy('skew-A', restat);
    expect(await readFile(join(a, 'build.ninja'), 'utf8')).toContain('restat = 1');
    const localStore = join(root, 'store-skew');
    const first = await orchestrate(['build', '--json'], { cwd: a, store: localStore, env });
    expect(first.exitCode, first.stderr).toBe(0);
    // The saving machine's clock: every recorded time, and every time ninja logged, an hour ahead.
    const opened = await LocalStore.open(localStore);
    const [loaded] = await opened.loadCheckpoints('custom-plugin-example');
    const manifest = structuredClone((loaded as { manifest: CheckpointManifest }).manifest) as unknown as {
      state: Record<string, { mtimeNs: string; blob?: string; size?: number }>;
      sources: Record<string, { mtimeNs: string }>;
    };
    for (const records of [manifest.state, manifest.sources]) {
      for (const record of Object.values(records)) record.mtimeNs = (BigInt(record.mtimeNs) + skew).toString();
    }
    const log = manifest.state['.ninja_log']!;
    const text = (await opened.readBlob(log.blob!)).toString('utf8');
    const ahead = text.replace(/^(\d+\t\d+\t)(\d+)\t/gm, (_m, head: string, mtime: string) => `${head}${BigInt(mtime) + skew}\t`);
    expect(ahead).not.toBe(text);
    log.blob = await opened.putBlob(Buffer.from(ahead));
    log.size = Buffer.byteLength(ahead);
    const deps = manifest.state['.ninja_deps']!;
    const depsAhead = shiftNinjaDeps(await opened.readBlob(deps.blob!), skew);
    deps.blob = await opened.putBlob(depsAhead);
    deps.size = depsAhead.length;
    for (const file of await storeManifests(localStore)) await rm(file);
    await opened.putCheckpoint(manifest as unknown as CheckpointManifest);

    const b = await freshCopy('skew-B', async (dir) => {
      await restat(dir);
      await editGreet(dir);
    });
    await cc.reset();
    const run = await orchestrate(['build', '--json'], { cwd: b, store: localStore, env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json, run.stderr).toMatchObject({ mode: 'incremental' });
    expect(await cc.units()).toEqual(['src/greet.c']);
    expect(await program(b)).toBe('hello from a checkpoint (20 letters)');
  });
});

describe('a build.ninja with absolute paths', () => {
  it('gives a checkpoint that is refused at another path (.ninja_deps names the old tree), and a full build says why', async () => {
    const absolute = async (dir: string): Promise<void> => {
      const file = join(dir, 'build.ninja');
      // As a generator writing absolute paths would: the inputs name this copy's own files.
      await writeFile(file, (await readFile(file, 'utf8')).replace(/: cc src\//g, `: cc ${dir}/src/`));
    };
    const localStore = join(root, 'store-absolute');
    const a = await freshCopy('absolute-A', absolute);
    const first = await orchestrate(['build', '--json'], { cwd: a, store: localStore, env });
    expect(first.exitCode, first.stderr).toBe(0);

    const b = await freshCopy('absolute-B', absolute);
    await cc.reset();
    const run = await orchestrate(['build', '--json'], { cwd: b, store: localStore, env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toMatch(
      new RegExp(`^checkpoint [0-9a-f]{12} refused: \\.ninja_deps names files under ${a}, where the checkpoint was built`),
    );
    expect(await cc.units()).toEqual([`${b}/src/count.c`, `${b}/src/greet.c`, `${b}/src/main.c`]);
    expect(await program(b)).toBe('hello from ninja (14 letters)');

    // At its own path the same checkpoint is used.
    await cc.reset();
    await editGreet(a);
    const again = await orchestrate(['build', '--json'], { cwd: a, store: localStore, env });
    expect(again.json).toMatchObject({ mode: 'incremental' });
    expect(await cc.units()).toEqual([`${a}/src/greet.c`]);
  });
});

describe("the plugin's options", () => {
  it('an unknown option is a config error (exit code 2) naming the plugin, the option and the nearest known one; nothing is built', async () => {
    const dir = await freshCopy('options', async (d) => {
      const file = join(d, 'orchestrate.config.mjs');
      await writeFile(file, (await readFile(file, 'utf8')).replace('ninja()', 'ninja({ jobz: 2 })'));
    });
    const run = await orchestrate(['build'], { cwd: dir, store, env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("orchestrate-plugin-ninja: unknown option 'jobz', did you mean 'jobs'?");
    expect(run.stderr).toContain(join(dir, 'orchestrate.config.mjs'));
    await expect(readFile(join(dir, 'out/.ninja_log'))).rejects.toThrow();
  });
});
