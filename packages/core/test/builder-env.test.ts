/**
 * orchestrate inside a builder: no write under a missing HOME or under HOME in
 * a Nix build, the project's identity from --name, and reproducible checkpoints
 * (times 'flat', createdAt from SOURCE_DATE_EPOCH).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { listTree, tempDir } from '@orchestrate/core/testing';
import { makeConfig, orchestrate, TINY_SOURCES, writeFiles } from './helpers.js';

/** The one manifest file below `store` (its path relative to the store, and its text). */
async function onlyManifest(store: string): Promise<{ path: string; text: string }> {
  const files = (await listTree(join(store, 'checkpoints'))).filter((path) => path.endsWith('.json'));
  expect(files).toHaveLength(1);
  return { path: files[0] as string, text: await readFile(join(store, 'checkpoints', files[0] as string), 'utf8') };
}

describe('in a builder', () => {
  it('writes nothing under HOME in a Nix build: caches go to TMPDIR, the store where --store says', async () => {
    const root = await tempDir('orchestrate-builder-');
    const home = join(root, 'home');
    await mkdir(home);
    const tmp = join(root, 'tmp');
    await mkdir(tmp);
    const dir = join(root, 'source');
    await writeFiles(dir, { ...TINY_SOURCES, 'orchestrate.config.json': makeConfig() });
    const env = { HOME: home, TMPDIR: tmp, NIX_BUILD_TOP: root, XDG_CACHE_HOME: undefined, XDG_RUNTIME_DIR: undefined };
    const run = await orchestrate(['build', '--name', 'tiny'], { cwd: dir, store: join(root, 'store'), env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await readdir(home)).toEqual([]);
    // The launcher's code cache went to TMPDIR.
    expect((await readdir(join(tmp, 'orchestrate', 'v8'))).some((name) => /^core-[0-9a-f]+\.bin$/.test(name))).toBe(true);
  });

  it('never creates a HOME that does not exist (Nix sets /homeless-shelter), even with the default store', async () => {
    const root = await tempDir('orchestrate-builder-');
    const home = join(root, 'homeless-shelter');
    const tmp = join(root, 'tmp');
    await mkdir(tmp);
    const dir = join(root, 'source');
    await writeFiles(dir, { ...TINY_SOURCES, 'orchestrate.config.json': makeConfig() });
    const env = { HOME: home, TMPDIR: tmp, XDG_CACHE_HOME: undefined, XDG_RUNTIME_DIR: undefined };
    const first = await orchestrate(['build', '--name', 'tiny', '--json'], { cwd: dir, env });
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await orchestrate(['build', '--name', 'tiny', '--json'], { cwd: dir, env });
    expect(second.json?.['mode']).toBe('incremental');
    expect(existsSync(home)).toBe(false);
    // The default store followed the caches to TMPDIR.
    expect(existsSync(join(tmp, 'orchestrate', 'checkpoints'))).toBe(true);
  });

  it('says where to put the store when there is no place for the default one', async () => {
    const root = await tempDir('orchestrate-builder-');
    const dir = join(root, 'source');
    await writeFiles(dir, { ...TINY_SOURCES, 'orchestrate.config.json': makeConfig() });
    const env = { HOME: join(root, 'missing'), TMPDIR: join(root, 'missing-too'), XDG_CACHE_HOME: undefined, XDG_RUNTIME_DIR: undefined };
    const run = await orchestrate(['build'], { cwd: dir, env });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain('no directory for the checkpoint store');
    expect(run.stderr).toContain('--store');
    expect(existsSync(join(root, 'missing'))).toBe(false);
  });

  it('names the project by --name, over the directory name, so any unpack finds its checkpoints', async () => {
    const root = await tempDir('orchestrate-builder-');
    const store = join(root, 'store');
    for (const name of ['source', 'demo-1.0']) {
      await writeFiles(join(root, name), { ...TINY_SOURCES, 'orchestrate.config.json': makeConfig() });
    }
    const first = await orchestrate(['build', '--name', 'demo', '--json'], { cwd: join(root, 'source'), store });
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await orchestrate(['build', '--name', 'demo', '--json'], { cwd: join(root, 'demo-1.0'), store });
    expect(second.json?.['mode'], second.json?.['reason']).toBe('incremental');
    expect(second.json?.['restored']).toBe(first.json?.['saved']);
    const list = await orchestrate(['list', '--name', 'demo', '--json'], { cwd: join(root, 'source'), store });
    expect((list.json?.['checkpoints'] as { project: string }[]).map((c) => c.project)).toEqual(['demo', 'demo']);
  });
});

describe('reproducible checkpoints', () => {
  /**
   * Two copies of one tree, made at different times and in another file order,
   * each built in full at the same path (as every Nix build runs in
   * /build/<source root>) into a store of its own.
   */
  async function buildTwice(times: 'flat' | 'exact'): Promise<[string, string]> {
    const root = await tempDir('orchestrate-repro-');
    const dir = join(root, 'source');
    const env = { SOURCE_DATE_EPOCH: '315532800' };
    const texts: string[] = [];
    for (const [i, order] of [Object.keys(TINY_SOURCES), Object.keys(TINY_SOURCES).reverse()].entries()) {
      const files: Record<string, string> = { 'orchestrate.config.json': makeConfig() };
      for (const path of order) files[path] = TINY_SOURCES[path] as string;
      await writeFiles(dir, files);
      const run = await orchestrate(['prepare', '--name', 'tiny', '--times', times], { cwd: dir, store: join(root, `store-${i}`), env });
      expect(run.exitCode, run.stderr).toBe(0);
      texts.push((await onlyManifest(join(root, `store-${i}`))).text);
      await rename(dir, join(root, `copy-${i}`));
      // The second copy's files get later times.
      await new Promise((done) => setTimeout(done, 30));
    }
    return texts as [string, string];
  }

  it("gives byte-identical manifests for two builds of the same sources with times 'flat' and SOURCE_DATE_EPOCH", async () => {
    const [a, b] = await buildTwice('flat');
    expect(b).toBe(a);
    expect(JSON.parse(a).createdAt).toBe('1980-01-01T00:00:00.000Z');
  });

  it("gives different manifests with times 'exact' (the default outside Nix): the wall-clock times are in them", async () => {
    const [a, b] = await buildTwice('exact');
    expect(b).not.toBe(a);
  });

  it("is 'flat' by default in a Nix build", async () => {
    const root = await tempDir('orchestrate-repro-');
    const dir = join(root, 'source');
    await writeFiles(dir, { ...TINY_SOURCES, 'orchestrate.config.json': makeConfig() });
    const run = await orchestrate(['prepare', '--name', 'tiny'], {
      cwd: dir,
      store: join(root, 'store'),
      env: { NIX_BUILD_TOP: root, TMPDIR: root },
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const manifest = JSON.parse((await onlyManifest(join(root, 'store'))).text) as { state: Record<string, { mtimeNs: string }> };
    expect(new Set(Object.values(manifest.state).map((r) => r.mtimeNs))).toEqual(new Set(['1000000000000000000']));
  });

  it('builds incrementally from a flat checkpoint: only the changed unit, output equal to a clean build', async () => {
    const root = await tempDir('orchestrate-repro-');
    const dir = join(root, 'source');
    const store = join(root, 'store');
    await writeFiles(dir, { ...TINY_SOURCES, 'orchestrate.config.json': makeConfig() });
    const first = await orchestrate(['prepare', '--name', 'tiny', '--times', 'flat'], { cwd: dir, store });
    expect(first.exitCode, first.stderr).toBe(0);
    await rename(dir, join(root, 'old'));
    const edited = { ...TINY_SOURCES, 'greet.c': TINY_SOURCES['greet.c']!.replace('hello', 'hi') };
    await writeFiles(dir, { ...edited, 'orchestrate.config.json': makeConfig() });
    const second = await orchestrate(['build', '--name', 'tiny', '--times', 'flat', '--verbose'], { cwd: dir, store });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toContain('restored checkpoint');
    const compiled = second.stderr.split('\n').filter((line) => / -c -o /.test(line));
    expect(compiled.map((line) => /-o (\S+)/.exec(line)?.[1])).toEqual(['greet.o']);
    const clean = join(root, 'clean');
    await writeFiles(clean, edited);
    await execa('make', [], { cwd: clean });
    expect(await readFile(join(dir, 'hello'))).toEqual(await readFile(join(clean, 'hello')));
  });
});
