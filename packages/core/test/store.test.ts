/**
 * The store as a user meets it through the CLI: a store that cannot be
 * written, damaged checkpoints and blobs (the build goes on in full and says
 * why, the user's files untouched), `list` and `gc`.
 */
import { execa } from 'execa';
import { readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCompilerLog, tempDir } from '@orchestrate/core/testing';
import { sha256 } from '../src/sources/hash.js';
import { makeConfig, orchestrate, orchestrateInProcess, storeBlobs, storeManifests, tinyProject, treeDigest } from './helpers.js';

const SOURCES = (path: string): boolean => /\.(c|h|json)$|^Makefile$/.test(path);

async function program(dir: string): Promise<string> {
  return String((await execa('./hello', [], { cwd: dir })).stdout);
}

async function readManifest(file: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, any>;
}

/** A project with one saved checkpoint; returns it and the manifest file. */
async function withCheckpoint(name: string, env?: Record<string, string>) {
  const project = await tinyProject({ config: makeConfig({ name }) });
  const run = await orchestrateInProcess(['build', '--json'], { cwd: project.dir, store: project.store, ...(env ? { env } : {}) });
  expect(run.exitCode, run.stderr).toBe(0);
  const saved = run.json?.['saved'] as string;
  const [manifest] = await storeManifests(project.store);
  expect(manifest && basename(manifest)).toBe(`${saved}.json`);
  return { ...project, saved, manifest: manifest as string };
}

describe('a store that cannot be written', () => {
  it('is read from as an empty store: the build goes on in full, exits 0 and says that nothing was saved, naming the store', async () => {
    const { dir, root } = await tinyProject();
    const file = join(root, 'not-a-directory');
    await writeFile(file, 'a regular file\n');
    const store = join(file, 'store');
    const run = await orchestrate(['build', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(`warning: store ${store} is read-only: no checkpoint saved (it cannot be written: ENOTDIR`);
    expect(run.json).toMatchObject({ mode: 'full', restored: null, saved: null });
    expect(run.json?.['saveError']).toContain(`store ${store} is read-only: no checkpoint saved`);
    expect(await program(dir)).toBe('hello');
  });

  it("names the path from the config's store key too; list shows no checkpoints, gc fails with exit code 3", async () => {
    const { dir } = await tinyProject({ config: makeConfig({ name: 'blocked', store: 'blocker/store' }) });
    await writeFile(join(dir, 'blocker'), '');
    const store = join(dir, 'blocker/store');
    const build = await orchestrate(['build'], { cwd: dir });
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.stderr).toContain(`warning: store ${store} is read-only: no checkpoint saved`);
    expect(build.stderr).toMatch(/build: full \(.*\); nothing saved; \d+ ms/);
    const list = await orchestrate(['list'], { cwd: dir });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout.trim()).toBe(`no checkpoints of 'blocked' in ${store}`);
    const gc = await orchestrate(['gc', '--keep', '1'], { cwd: dir });
    expect(gc.exitCode).toBe(3);
    expect(gc.stderr).toContain(`error: ${store}: the store is read-only, cannot collect garbage (it cannot be written: ENOTDIR`);
  });
});

describe('a damaged checkpoint manifest', () => {
  it('that fails the schema is ignored with a warning naming the file; the build goes on in full, its reason naming the cause', async () => {
    const { dir, store, manifest } = await withCheckpoint('schema');
    const json = await readManifest(manifest);
    // A state path that would escape the build directory.
    json['state']['../escape.o'] = json['state']['main.o'];
    const text = `${JSON.stringify(json)}\n`;
    const edited = join(manifest, '..', `${sha256(text)}.json`);
    await writeFile(edited, text);
    await rm(manifest);

    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(`warning: ignoring checkpoint ${edited}: fails the manifest schema at 'state.../escape.o'`);
    expect(run.json).toMatchObject({ mode: 'full' });
    expect(run.json?.['reason']).toMatch(`checkpoint ${edited} is unusable: fails the manifest schema at 'state.../escape.o'`);
    expect(run.json?.['saved']).toMatch(/^[0-9a-f]{64}$/);
    expect(await program(dir)).toBe('hello');
  });

  it('whose content does not match its id is ignored with a warning naming the file', async () => {
    const { dir, store, manifest } = await withCheckpoint('edited');
    const json = await readManifest(manifest);
    json['createdAt'] = '2001-01-01T00:00:00.000Z';
    await writeFile(manifest, `${JSON.stringify(json)}\n`);

    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(`warning: ignoring checkpoint ${manifest}: content does not match its id`);
    expect(run.json).toMatchObject({ mode: 'full' });

    const list = await orchestrateInProcess(['list'], { cwd: dir, store });
    expect(list.stdout).toContain(`${manifest}  unreadable: content does not match its id`);
  });
});

describe('a damaged blob', () => {
  /** A checkpoint, one of its blobs overwritten with other bytes of the same size, and a fresh copy with an edit. */
  async function damaged(name: string) {
    const a = await withCheckpoint(name);
    const blob = (await readManifest(a.manifest))['state']['main.o']['blob'] as string;
    const blobPath = join(a.store, 'objects', blob.slice(0, 2), blob);
    const bytes = await readFile(blobPath);
    await writeFile(blobPath, Buffer.alloc(bytes.length, 0x5a));
    const b = await tinyProject({
      config: makeConfig({ name }),
      files: { 'greet.c': '#include "greet.h"\nconst char *greeting(void) { return "howdy"; }\n' },
    });
    return { a, b, blobPath };
  }

  it("makes the build say the checkpoint is damaged and build in full, the user's files untouched", async () => {
    const { a, b, blobPath } = await damaged('blob');
    const before = await treeDigest(b.dir);
    const run = await orchestrateInProcess(['build', '--json'], { cwd: b.dir, store: a.store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `warning: checkpoint ${a.saved.slice(0, 12)} is damaged, building in full: ${blobPath}: blob content does not match its hash`,
    );
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toContain(`checkpoint ${a.saved.slice(0, 12)} is damaged: ${blobPath}`);
    expect(await treeDigest(b.dir, SOURCES)).toEqual(before);
    expect(await program(b.dir)).toBe('howdy');

    // The damaged blob is gone and the new checkpoint stored it again: the next build restores.
    expect(await sha256File(blobPath)).toBe(basename(blobPath));
    const c = await tinyProject({
      config: makeConfig({ name: 'blob' }),
      files: { 'greet.c': '#include "greet.h"\nconst char *greeting(void) { return "howdy"; }\n' },
    });
    const next = await orchestrateInProcess(['build', '--json'], { cwd: c.dir, store: a.store });
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.json).toMatchObject({ mode: 'incremental', restored: run.json?.['saved'] });
  });

  it('makes restore write nothing, say the checkpoint is damaged and exit 0', async () => {
    const { a, b, blobPath } = await damaged('blob-restore');
    const before = await treeDigest(b.dir);
    const run = await orchestrateInProcess(['restore', '--json'], { cwd: b.dir, store: a.store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ command: 'restore', mode: 'full', restored: null, saved: null });
    expect(run.json?.['reason']).toContain(blobPath);
    expect(await treeDigest(b.dir)).toEqual(before);
  });
});

async function sha256File(path: string): Promise<string> {
  return sha256(await readFile(path));
}

describe('list and gc', () => {
  it('list shows the checkpoints newest first, as text and as JSON', async () => {
    const { dir, store, saved } = await withCheckpoint('listed');
    await writeFile(join(dir, 'greet.c'), '#include "greet.h"\nconst char *greeting(void) { return "bonjour"; }\n');
    const second = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
    expect(second.json).toMatchObject({ mode: 'incremental', restored: saved });
    const newest = second.json?.['saved'] as string;

    const text = await orchestrateInProcess(['list'], { cwd: dir, store });
    expect(text.exitCode, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${newest.slice(0, 12)}  \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z  \\d+ files  \\d+ bytes  listed$`));
    expect(lines[1]).toMatch(new RegExp(`^${saved.slice(0, 12)}  `));

    const json = await orchestrateInProcess(['list', '--json'], { cwd: dir, store });
    expect(json.json).toMatchObject({
      store,
      checkpoints: [
        { id: newest, project: 'listed', files: 3 },
        { id: saved, project: 'listed', files: 3 },
      ],
    });
    expect(json.json?.['checkpoints'][0]['bytes']).toBeGreaterThan(0);
    expect(json.json?.['checkpoints'][0]['fingerprint']).toHaveProperty('make.program');
  });

  it('list says so when the project has no checkpoints', async () => {
    const { dir, store } = await tinyProject({ config: makeConfig({ name: 'empty' }) });
    const run = await orchestrateInProcess(['list'], { cwd: dir, store });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(`no checkpoints of 'empty' in ${store}`);
  });

  it('gc --keep 1 removes older checkpoints and their blobs, keeps what the newest references, which still restores', async () => {
    const cc = await createCompilerLog(await tempDir('orchestrate-cc-'));
    const env = { CC: cc.path, ...cc.env };
    const { dir, store, saved } = await withCheckpoint('gc', env);
    await writeFile(join(dir, 'greet.c'), '#include "greet.h"\nconst char *greeting(void) { return "salut"; }\n');
    const second = await orchestrateInProcess(['build', '--json'], { cwd: dir, store, env });
    const newest = second.json?.['saved'] as string;
    expect(newest).not.toBe(saved);
    const blobsBefore = await storeBlobs(store);
    // As if the builds were a minute ago: gc keeps blobs touched in its last seconds (a capture may name them).
    const past = new Date(Date.now() - 60_000);
    for (const blob of blobsBefore) await utimes(blob, past, past);

    const gc = await orchestrateInProcess(['gc', '--keep', '1', '--json'], { cwd: dir, store });
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(gc.json).toMatchObject({ checkpointsRemoved: 1 });
    expect(gc.json?.['blobsRemoved']).toBeGreaterThan(0);

    const manifests = await storeManifests(store);
    expect(manifests.map((m) => basename(m))).toEqual([`${newest}.json`]);
    const referenced = Object.values((await readManifest(manifests[0] as string))['state'] as Record<string, { blob?: string }>)
      .flatMap((r) => (r.blob ? [r.blob] : []))
      .sort();
    const blobsAfter = (await storeBlobs(store)).map((p) => basename(p)).sort();
    expect(blobsAfter).toEqual([...new Set(referenced)].sort());
    expect(blobsBefore.length - blobsAfter.length).toBe(gc.json?.['blobsRemoved']);

    // A fresh copy with the same edit restores from the kept checkpoint and compiles nothing.
    const copy = await tinyProject({
      config: makeConfig({ name: 'gc' }),
      files: { 'greet.c': '#include "greet.h"\nconst char *greeting(void) { return "salut"; }\n' },
    });
    await cc.reset();
    const restored = await orchestrateInProcess(['build', '--json'], { cwd: copy.dir, store, env });
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.json).toMatchObject({ mode: 'incremental', restored: newest });
    expect(await cc.units()).toEqual([]);
    expect(await program(copy.dir)).toBe('salut');

    const text = await orchestrateInProcess(['gc', '--keep', '1'], { cwd: dir, store });
    expect(text.stdout).toMatch(/^removed \d+ checkpoints and \d+ blobs \(\d+ bytes\)$/);
  });

  it('gc --keep with something else than a whole number is a usage error', async () => {
    const { dir, store } = await tinyProject();
    const run = await orchestrateInProcess(['gc', '--keep', 'all'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("--keep expects a whole number, got 'all'");
  });
});

describe('rolling checkpoints', () => {
  it('saves no second checkpoint for a build that changed nothing, and a new one after an edit', async () => {
    const { dir, store, saved } = await withCheckpoint('rolling');
    const again = await orchestrateInProcess(['build', '--json', '--verbose'], { cwd: dir, store });
    expect(again.json).toMatchObject({ mode: 'incremental', restored: saved, saved });
    expect(again.stderr).toContain(`checkpoint ${saved.slice(0, 12)} holds this build's state; not saved again`);
    expect((await storeManifests(store)).map((m) => basename(m))).toEqual([`${saved}.json`]);

    await writeFile(join(dir, 'greet.c'), '#include "greet.h"\nconst char *greeting(void) { return "hej"; }\n');
    const edited = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
    expect(edited.json).toMatchObject({ mode: 'incremental', restored: saved });
    expect(edited.json?.['saved']).not.toBe(saved);
    expect(await storeManifests(store)).toHaveLength(2);
  });
});
