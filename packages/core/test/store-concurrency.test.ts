/**
 * The store under concurrent use, on a read-only mount and on a full disk,
 * through the real CLI and real make: no checkpoint ever names a missing
 * blob, and a store that cannot take a checkpoint costs the checkpoint, never
 * the build. Mounts need root (as in CI); each test unmounts what it mounted.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN, tempDir } from '@orchestrate/core/testing';
import { makeConfig, orchestrate, orchestrateInProcess, storeBlobs, storeManifests, tinyProject } from './helpers.js';

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

const greet = (text: string): Record<string, string> => ({
  'greet.c': `#include "greet.h"\nconst char *greeting(void) { return "${text}"; }\n`,
});

async function program(dir: string): Promise<string> {
  return String((await execa('./hello', [], { cwd: dir })).stdout);
}

/** Mount points to unmount after the file's tests, newest first. */
const mounted: string[] = [];

async function mount(args: readonly string[], at: string): Promise<void> {
  const result = await execa('mount', [...args, at], { reject: false });
  if (result.exitCode !== 0) throw new Error(`mount ${args.join(' ')} ${at} failed (these tests need root): ${String(result.stderr)}`);
  if (!mounted.includes(at)) mounted.unshift(at);
}

async function unmount(at: string): Promise<void> {
  const result = await execa('umount', [at], { reject: false });
  if (result.exitCode !== 0) await execa('umount', ['-l', at], { reject: false });
  mounted.splice(mounted.indexOf(at), 1);
}

afterAll(async () => {
  for (const at of [...mounted]) await unmount(at);
});

/** Every manifest's id matches its bytes, and every blob it names is present with the bytes of its hash. */
async function expectStoreConsistent(store: string): Promise<{ manifests: number; blobs: number }> {
  const manifests = await storeManifests(store);
  const named = new Set<string>();
  for (const file of manifests) {
    const text = await readFile(file, 'utf8');
    expect(`${sha256(text)}.json`, file).toBe(basename(file));
    const json = JSON.parse(text) as { state: Record<string, { blob?: string }>; attachments?: Record<string, string> };
    for (const record of Object.values(json.state)) if (record.blob) named.add(record.blob);
    for (const blob of Object.values(json.attachments ?? {})) named.add(blob);
  }
  for (const blob of named) {
    const path = join(store, 'objects', blob.slice(0, 2), blob);
    const bytes = await readFile(path).catch(() => undefined);
    expect(bytes, `blob ${blob} named by a checkpoint`).toBeDefined();
    expect(sha256(bytes as Buffer), path).toBe(blob);
  }
  return { manifests: manifests.length, blobs: named.size };
}

/** Path, kind, size, mtime and content hash of everything below `dir`: any write to a store changes it. */
async function storeDigest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(dir, rel))) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const info = await lstat(join(dir, path), { bigint: true });
      if (info.isDirectory()) {
        out[`${path}/`] = `dir ${info.mtimeNs}`;
        await walk(path);
      } else {
        out[path] = `${info.size} ${info.mtimeNs} ${sha256(await readFile(join(dir, path)))}`;
      }
    }
  };
  await walk('');
  return out;
}

describe('a store on a read-only mount', () => {
  it('restores incrementally, builds and says that nothing was saved; restore, list and --no-save work, gc exits 3; the store is untouched', async () => {
    const a = await tinyProject({ config: makeConfig({ name: 'ro' }) });
    const first = await orchestrateInProcess(['build', '--json'], { cwd: a.dir, store: a.store });
    expect(first.exitCode, first.stderr).toBe(0);
    const saved = first.json?.['saved'] as string;
    const ro = join(a.root, 'ro-store');
    await mkdir(ro);
    await mount(['--bind', a.store], ro);
    await mount(['-o', 'remount,bind,ro'], ro);
    try {
      const before = await storeDigest(a.store);

      const b = await tinyProject({ config: makeConfig({ name: 'ro' }), files: greet('read-only') });
      const build = await orchestrate(['build', '--json'], { cwd: b.dir, store: ro });
      expect(build.exitCode, build.stderr).toBe(0);
      expect(build.json).toMatchObject({ mode: 'incremental', restored: saved, saved: null, changes: { modified: ['greet.c'] } });
      expect(build.json?.['saveError']).toMatch(
        new RegExp(`^store ${ro} is read-only: no checkpoint saved \\(it cannot be written: .*EROFS`),
      );
      expect(build.stderr).toContain(`warning: store ${ro} is read-only: no checkpoint saved`);
      expect(await program(b.dir)).toBe('read-only');

      const text = await orchestrate(['build'], { cwd: b.dir, store: ro });
      expect(text.exitCode, text.stderr).toBe(0);
      expect(text.stderr).toMatch(new RegExp(`build: incremental from ${saved.slice(0, 12)}; nothing saved; \\d+ ms`));

      const noSave = await orchestrate(['build', '--no-save', '--json'], { cwd: b.dir, store: ro });
      expect(noSave.exitCode, noSave.stderr).toBe(0);
      expect(noSave.json).toMatchObject({ mode: 'incremental', saved: null, saveError: null });
      expect(noSave.stderr).not.toContain('read-only');

      const c = await tinyProject({ config: makeConfig({ name: 'ro' }) });
      const restore = await orchestrate(['restore', '--json'], { cwd: c.dir, store: ro });
      expect(restore.exitCode, restore.stderr).toBe(0);
      expect(restore.json).toMatchObject({ mode: 'incremental', restored: saved, saved: null, saveError: null });
      expect(await program(c.dir)).toBe('hello');

      const list = await orchestrate(['list', '--json'], { cwd: c.dir, store: ro });
      expect(list.exitCode, list.stderr).toBe(0);
      expect(list.json?.['checkpoints']).toMatchObject([{ id: saved, project: 'ro' }]);

      const gc = await orchestrate(['gc', '--keep', '0'], { cwd: c.dir, store: ro });
      expect(gc.exitCode).toBe(3);
      expect(gc.stderr).toContain(`error: ${ro}: the store is read-only, cannot collect garbage`);

      expect(await storeDigest(a.store)).toEqual(before);
    } finally {
      await unmount(ro);
    }
  });
});

describe('a store on a full disk', () => {
  it('keeps no partial checkpoint and no temporary file; the build reports its result and the store error, exit 0', async () => {
    const project = await tinyProject({ config: makeConfig({ name: 'full' }) });
    const disk = join(project.root, 'disk');
    await mkdir(disk);
    // The program alone is ~16 KiB: 12 KiB hold the store's directories and the object files, not it.
    await mount(['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs'], disk);
    try {
      const store = join(disk, 'store');
      const run = await orchestrate(['build', '--json'], { cwd: project.dir, store });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json).toMatchObject({ command: 'build', mode: 'full', saved: null });
      expect(run.json?.['saveError']).toMatch(/ENOSPC/);
      expect(run.stderr).toMatch(/warning: no checkpoint saved: .*cannot store file \(ENOSPC/);
      expect(await program(project.dir)).toBe('hello');
      expect(await storeManifests(store)).toEqual([]);
      expect(await readdir(join(store, 'tmp'))).toEqual([]);
      for (const blob of await storeBlobs(store)) expect(sha256(await readFile(blob))).toBe(basename(blob));

      // With room again, the next build saves a checkpoint that restores.
      await mount(['-o', 'remount,size=1m'], disk);
      const again = await orchestrate(['build', '--json'], { cwd: project.dir, store });
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.json?.['saved']).toMatch(/^[0-9a-f]{64}$/);
      expect(again.json?.['saveError']).toBeNull();
      await expectStoreConsistent(store);
    } finally {
      await unmount(disk);
    }
  });
});

describe('a gc while a build runs', () => {
  it('cannot take a blob that the build reuses unread from the checkpoint it restored', async () => {
    // The link step runs `orchestrate gc --keep 0` when GC_DURING_BUILD says so: between the
    // restore and the capture, the restored checkpoint and every blob only it names go.
    const makefile = [
      'CC ?= cc',
      'hello: main.o greet.o',
      '\t$(GC_DURING_BUILD)',
      '\t$(CC) -o $@ main.o greet.o',
      '%.o: %.c greet.h',
      '\t$(CC) -c -o $@ $<',
      '',
    ];
    const { dir, store, root } = await tinyProject({ config: makeConfig({ name: 'reuse' }), files: { Makefile: makefile.join('\n') } });
    const first = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
    expect(first.exitCode, first.stderr).toBe(0);
    // As if built a minute ago: gc keeps blobs touched in its last seconds.
    const past = new Date(Date.now() - 60_000);
    for (const blob of await storeBlobs(store)) await utimes(blob, past, past);

    await writeFile(join(dir, 'greet.c'), greet('reused')['greet.c'] as string);
    const gcOut = join(root, 'gc-during-build.json');
    const gc = `'${process.execPath}' '${CLI_BIN}' gc --keep 0 --json --store '${store}' -C '${dir}' > '${gcOut}'`;
    const run = await orchestrate(['build', '--json'], { cwd: dir, store, env: { GC_DURING_BUILD: gc } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'incremental', restored: first.json?.['saved'], saveError: null });
    expect(JSON.parse(await readFile(gcOut, 'utf8'))).toMatchObject({ checkpointsRemoved: 1 });

    // main.o was reused unread; its blob is in the store, stored anew if the gc took it.
    const [manifest] = await storeManifests(store);
    expect(manifest && basename(manifest)).toBe(`${run.json?.['saved']}.json`);
    expect(await expectStoreConsistent(store)).toMatchObject({ manifests: 1 });

    const copy = await tinyProject({ config: makeConfig({ name: 'reuse' }), files: { Makefile: makefile.join('\n'), ...greet('reused') } });
    const restored = await orchestrateInProcess(['build', '--json'], { cwd: copy.dir, store });
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.json).toMatchObject({ mode: 'incremental', restored: run.json?.['saved'] });
    expect(await program(copy.dir)).toBe('reused');
  });
});

describe('eight builds and a gc loop sharing one store', () => {
  it('leave every checkpoint whole, and every copy builds again, restoring incrementally', async () => {
    const COPIES = 8;
    const ROUNDS = 3;
    const GCS = 12;
    const store = join(await tempDir('orchestrate-shared-'), 'store');
    // One project in eight directories. Each copy has a unit of its own, unchanged from round to
    // round: its blob is named only by that copy's checkpoints, which the others' prunes and the gc
    // remove while the copy restores one and reuses the blob in its next capture.
    const makefile = [
      'CC ?= cc',
      'hello: main.o greet.o own.o',
      '\t$(CC) -o $@ main.o greet.o own.o',
      '%.o: %.c greet.h',
      '\t$(CC) -c -o $@ $<',
      '',
    ];
    const copies = await Promise.all(
      Array.from({ length: COPIES }, (_, i) =>
        tinyProject({
          name: 'stress',
          config: makeConfig({ name: 'stress', keep: 2 }),
          files: { Makefile: makefile.join('\n'), 'own.c': `int own_${i} = ${i};\n` },
        }),
      ),
    );

    const builds = copies.map(async ({ dir }, i) => {
      const runs = [];
      for (let round = 0; round < ROUNDS; round++) {
        await writeFile(join(dir, 'greet.c'), greet(`hello ${i}.${round}`)['greet.c'] as string);
        runs.push(await orchestrate(['build', '--json'], { cwd: dir, store }));
      }
      return runs;
    });
    const gcs = (async () => {
      const runs = [];
      for (let n = 0; n < GCS; n++) {
        runs.push(await orchestrate(['gc', '--keep', '1', '--json'], { cwd: copies[0]?.dir as string, store }));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return runs;
    })();
    const [buildRuns, gcRuns] = await Promise.all([Promise.all(builds), gcs]);

    for (const run of buildRuns.flat()) {
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json?.['saveError'], run.stderr).toBeNull();
    }
    for (const run of gcRuns) expect(run.exitCode, run.stderr).toBe(0);
    // The gc loop did remove checkpoints while the builds ran.
    expect(gcRuns.reduce((n, run) => n + (run.json?.['checkpointsRemoved'] as number), 0)).toBeGreaterThan(0);
    for (const [i, { dir }] of copies.entries()) expect(await program(dir)).toBe(`hello ${i}.${ROUNDS - 1}`);

    const left = await expectStoreConsistent(store);
    expect(left.manifests).toBeGreaterThan(0);
    // And the store itself loads every one of them.
    const list = await orchestrate(['list', '--all', '--json'], { cwd: copies[0]?.dir as string, store });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.json?.['checkpoints']).toHaveLength(left.manifests);
    for (const row of list.json?.['checkpoints'] as Record<string, unknown>[]) expect(row).not.toHaveProperty('error');
    expect(await readdir(join(store, 'tmp'))).toEqual([]);

    // One more build in each copy, one after the other: each restores a checkpoint left (another
    // copy's, with another greeting) and rebuilds its own greeting.
    for (const [i, { dir }] of copies.entries()) {
      await writeFile(join(dir, 'greet.c'), greet(`again ${i}`)['greet.c'] as string);
      const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json, run.stderr).toMatchObject({ mode: 'incremental', reason: null });
      expect(run.json?.['saved']).toMatch(/^[0-9a-f]{64}$/);
      expect(await program(dir)).toBe(`again ${i}`);
    }
    await expectStoreConsistent(store);
  });
});
