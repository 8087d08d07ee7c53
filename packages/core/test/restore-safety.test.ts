/**
 * A restore never costs the user a file and never writes outside the build
 * directory, whatever the working tree or the checkpoint holds: what it
 * cannot restore safely it refuses before writing anything, and the build
 * goes on in full, saying why.
 */
import { lstat, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../src/sources/hash.js';
import { makeConfig, orchestrateInProcess, storeManifests, tinyProject } from './helpers.js';

/** A tiny make project with one saved checkpoint. */
async function withCheckpoint(name: string) {
  const project = await tinyProject({ name, config: makeConfig({ name }) });
  const run = await orchestrateInProcess(['build', '--json'], { cwd: project.dir, store: project.store });
  expect(run.exitCode, run.stderr).toBe(0);
  const [manifest] = await storeManifests(project.store);
  expect(manifest && basename(manifest)).toBe(`${run.json?.['saved'] as string}.json`);
  return { ...project, manifest: manifest as string };
}

describe('restore safety', () => {
  it("keeps a directory of the user's where the checkpoint has a file, and builds in full saying why", async () => {
    const { dir, store } = await withCheckpoint('dir-over-file');
    await rm(join(dir, 'hello'));
    await mkdir(join(dir, 'hello'));
    await writeFile(join(dir, 'hello', 'notes.txt'), 'mine\n');

    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.stderr).toMatch(
      /full build: checkpoint [0-9a-f]+ refused: its state file 'hello' would replace the directory 'hello' of the working tree/,
    );
    // make cannot link a program over a directory either: the build fails (exit 1), the notes stay.
    expect(run.exitCode).toBe(1);
    expect(await readFile(join(dir, 'hello', 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('refuses a link that leaves the build directory through another restored link, writing nothing', async () => {
    const { dir, store, manifest } = await withCheckpoint('link-chain');
    const json = JSON.parse(await readFile(manifest, 'utf8')) as Record<string, any>;
    const mtimeNs = json['state']['hello']['mtimeNs'] as string;
    // Each target looks inside on its own: d/y is the build directory itself, x is "d/escape".
    json['state']['d'] = { kind: 'dir', mtimeNs };
    json['state']['d/y'] = { kind: 'link', target: '..', mtimeNs };
    json['state']['x'] = { kind: 'link', target: 'd/y/../escape', mtimeNs };
    const text = `${JSON.stringify(json)}\n`;
    await writeFile(join(manifest, '..', `${sha256(text)}.json`), text);
    await rm(manifest);
    await rm(join(dir, 'hello'));
    const before = (await readdir(dir)).sort();

    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toContain("its symbolic link 'x' points outside the build directory ('d/y/../escape')");
    // Nothing of the checkpoint was written: no d/, no x; the full build made hello again.
    expect((await readdir(dir)).sort()).toEqual([...before, 'hello'].sort());
    await expect(lstat(join(dir, 'x'))).rejects.toThrow(/ENOENT/);
  });
});
