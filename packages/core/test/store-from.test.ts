/**
 * Read-only store layers (`--store-from`): a second runner with an empty store
 * of its own restores from another runner's store, which is never changed;
 * what it serves is written through (only what the store lacks), or left in
 * place with `--store-from-in-place`, as Nix chains checkpoint outputs.
 */
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { orchestrate, storeBlobs, storeManifests, tinyProject, TINY_SOURCES, treeDigest, makeConfig } from './helpers.js';

const mounted: string[] = [];
afterAll(async () => {
  for (const at of mounted) await execa('umount', [at], { reject: false });
});

async function program(dir: string): Promise<string> {
  return String((await execa('./hello', [], { cwd: dir })).stdout);
}

/** Runner A's store with one checkpoint, mounted read-only elsewhere (needs root, as in CI). */
async function runnerA(name: string) {
  const a = await tinyProject({ name, config: makeConfig({ name }) });
  const first = await orchestrate(['build', '--json'], { cwd: a.dir, store: a.store });
  expect(first.exitCode, first.stderr).toBe(0);
  const ro = join(a.root, 'store-ro');
  await mkdir(ro);
  const bind = await execa('mount', ['--bind', a.store, ro], { reject: false });
  expect(bind.exitCode, `mount --bind needs root: ${String(bind.stderr)}`).toBe(0);
  mounted.unshift(ro);
  const remount = await execa('mount', ['-o', 'remount,bind,ro', ro], { reject: false });
  expect(remount.exitCode, String(remount.stderr)).toBe(0);
  return { ...a, ro, saved: first.json?.['saved'] as string };
}

/** A fresh copy of the tiny project at another path, with greet.c edited, and an empty store of its own. */
async function runnerB(name: string, root: string, label: string) {
  const dir = join(root, label, name);
  await mkdir(dir, { recursive: true });
  for (const [path, content] of Object.entries(TINY_SOURCES)) await writeFile(join(dir, path), content);
  await writeFile(join(dir, 'greet.c'), TINY_SOURCES['greet.c']!.replace('"hello"', `"${label}"`));
  await writeFile(join(dir, 'orchestrate.config.json'), makeConfig({ name }));
  return { dir, store: join(root, label, 'store') };
}

const blobNames = async (store: string): Promise<Set<string>> => new Set((await storeBlobs(store)).map((file) => basename(file)));

describe('--store-from', () => {
  it('restores from a read-only store, leaves it unchanged, and writes what it served through to the store', async () => {
    const a = await runnerA('layers');
    const before = await treeDigest(a.store);
    const b = await runnerB('layers', a.root, 'b');

    const run = await orchestrate(['build', '--json', '--store-from', a.ro], { cwd: b.dir, store: b.store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'incremental', restored: a.saved, restoredFrom: a.ro, changes: { modified: ['greet.c'] } });
    expect(await program(b.dir)).toBe('b');
    expect(await treeDigest(a.store)).toEqual(before);
    // The store holds a whole checkpoint of its own: a third runner needs no layer.
    const [manifest] = await storeManifests(b.store);
    const named = Object.values(
      (JSON.parse(await readFile(manifest as string, 'utf8')) as { state: Record<string, { blob?: string }> }).state,
    )
      .map((record) => record.blob)
      .filter((blob): blob is string => blob !== undefined);
    const held = await blobNames(b.store);
    for (const blob of named) expect(held.has(blob), blob).toBe(true);

    const c = await runnerB('layers', a.root, 'c');
    const third = await orchestrate(['build', '--json'], { cwd: c.dir, store: b.store });
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.json).toMatchObject({ mode: 'incremental', restored: run.json?.['saved'] });
    expect(await program(c.dir)).toBe('c');
  });

  it('in place, stores only what the layer lacks; the chain restores, the store alone is incomplete and says so', async () => {
    const a = await runnerA('chain');
    const before = await treeDigest(a.store);
    const b = await runnerB('chain', a.root, 'b');

    const run = await orchestrate(['build', '--json', '--store-from', a.ro, '--store-from-in-place'], { cwd: b.dir, store: b.store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'incremental', restoredFrom: a.ro });
    expect(await treeDigest(a.store)).toEqual(before);
    const lower = await blobNames(a.store);
    const own = await blobNames(b.store);
    expect(own.size).toBeGreaterThan(0); // the relinked program and the edited object
    for (const blob of own) expect(lower.has(blob), `${blob} is in the layer below already`).toBe(false);

    const c = await runnerB('chain', a.root, 'c');
    const chained = await orchestrate(['build', '--json', '--no-save', '--store-from', a.ro, '--store-from-in-place'], {
      cwd: c.dir,
      store: b.store,
    });
    expect(chained.exitCode, chained.stderr).toBe(0);
    expect(chained.json).toMatchObject({ mode: 'incremental', restored: run.json?.['saved'], restoredFrom: b.store });
    expect(await program(c.dir)).toBe('c');

    const d = await runnerB('chain', a.root, 'd');
    const alone = await orchestrate(['build', '--json', '--no-save'], { cwd: d.dir, store: b.store });
    expect(alone.exitCode, alone.stderr).toBe(0);
    expect(alone.json).toMatchObject({ mode: 'full' });
    expect(alone.json?.['reason']).toMatch(/is damaged: .*blob is missing/);
    expect(await program(d.dir)).toBe('d');
  });

  it("list shows the layers' checkpoints with where they come from", async () => {
    const a = await runnerA('listing');
    const b = await runnerB('listing', a.root, 'b');
    const listed = await orchestrate(['list', '--json', '--store-from', a.ro], { cwd: b.dir, store: b.store });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.json?.['checkpoints']).toEqual([expect.objectContaining({ id: a.saved, origin: a.ro })]);
  });
});
