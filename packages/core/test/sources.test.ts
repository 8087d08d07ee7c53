/**
 * The two ways of listing sources (git's index and stat data in a work tree, a
 * walk of the tree elsewhere) must give the same manifest for the same tree,
 * or a checkpoint made in a clone would not match a tarball of the same
 * sources: the same paths, blob ids, kinds and link targets.
 */
import { execa } from 'execa';
import { lstatSync } from 'node:fs';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@orchestrate/core/testing';
import type { SourceEntry } from '../src/sources/manifest.js';
import { scanSources } from '../src/sources/scan.js';
import { hashFiles, walkTree } from '../src/sources/walk.js';
import { writeFiles } from './helpers.js';

async function git(dir: string, ...args: string[]): Promise<string> {
  return String(
    (
      await execa('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], {
        cwd: dir,
        stdin: 'ignore',
      })
    ).stdout,
  );
}

async function walkManifest(dir: string, exclude: string[] = []): Promise<Map<string, SourceEntry>> {
  return hashFiles(dir, await walkTree(dir, { include: [], exclude, skipDirs: new Set() }));
}

/** What `git ls-files -s` would record for the tree as it is now, computed by git itself. */
async function gitIds(dir: string, paths: string[]): Promise<string[]> {
  return (await git(dir, 'hash-object', '--no-filters', '--', ...paths)).split('\n');
}

describe('source listing in git and by walk', () => {
  let dir = '';
  let viaGit: Map<string, SourceEntry>;
  let viaWalk: Map<string, SourceEntry>;

  beforeAll(async () => {
    dir = join(await tempDir('orchestrate-sources-'), 'repo');
    await mkdir(dir);
    await git(dir, 'init', '-q');
    await writeFiles(dir, {
      '.gitignore': '*.o\n/ignored-dir/\n',
      'src/main.c': 'int main(void) { return 0; }\n',
      'src/util.c': 'int util(void) { return 1; }\n',
      'src/gone.c': 'int gone(void) { return 2; }\n',
      'tools/gen.sh': '#!/bin/sh\necho gen\n',
      'tools/flip.sh': '#!/bin/sh\necho flip\n',
      'data/a.txt': 'a\n',
      'data/b.txt': 'b\n',
      'docs/with space é.md': 'unicode and a space\n',
    });
    await chmod(join(dir, 'tools/gen.sh'), 0o755);
    await symlink('a.txt', join(dir, 'data/current'));
    await symlink('../data/b.txt', join(dir, 'src/linked.txt'));
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', 'initial');

    // The working tree moves on from the commit.
    await writeFile(join(dir, 'src/util.c'), 'int util(void) { return 42; }\n'); // modified, unstaged
    await writeFile(join(dir, 'src/main.c'), 'int main(void) { return 3; }\n'); // modified and staged
    await git(dir, 'add', 'src/main.c');
    await rm(join(dir, 'src/gone.c')); // deleted tracked file
    await chmod(join(dir, 'tools/flip.sh'), 0o755); // mode change only
    await rm(join(dir, 'src/linked.txt'));
    await symlink('../data/a.txt', join(dir, 'src/linked.txt')); // retargeted link
    await writeFiles(dir, { 'src/new.c': 'int fresh(void) { return 5; }\n', 'notes/todo.txt': 'untracked\n' }); // untracked
    await symlink('new.c', join(dir, 'src/new-link.c')); // untracked link
    await writeFiles(dir, { 'src/main.o': 'object\n', 'ignored-dir/x.txt': 'ignored\n' }); // gitignored

    viaGit = (await scanSources({ sourceDir: dir, buildDir: dir, include: [], exclude: [] })).sources;
    viaWalk = await walkManifest(dir, ['**/*.o', 'ignored-dir/**']);
  });

  it('scans a work tree with git', async () => {
    expect((await scanSources({ sourceDir: dir, buildDir: dir, include: [], exclude: [] })).method).toBe('git');
  });

  it('gives the same manifest as a walk that ignores what .gitignore ignores', () => {
    expect([...viaGit]).toEqual([...viaWalk]);
  });

  it('lists exactly the tracked, modified and untracked files, without deleted or ignored ones', () => {
    expect([...viaGit.keys()]).toEqual([
      '.gitignore',
      'data/a.txt',
      'data/b.txt',
      'data/current',
      'docs/with space é.md',
      'notes/todo.txt',
      'src/linked.txt',
      'src/main.c',
      'src/new-link.c',
      'src/new.c',
      'src/util.c',
      'tools/flip.sh',
      'tools/gen.sh',
    ]);
  });

  it("tells git's untracked files apart; outside git every file is untracked", async () => {
    const scanned = await scanSources({ sourceDir: dir, buildDir: dir, include: [], exclude: [] });
    expect([...scanned.untracked].sort()).toEqual(['notes/todo.txt', 'src/new-link.c', 'src/new.c']);
    const copy = join(await tempDir('orchestrate-sources-untracked-'), 'plain');
    await writeFiles(copy, { 'a.c': 'int a;\n', 'sub/b.c': 'int b;\n' });
    const walked = await scanSources({ sourceDir: copy, buildDir: copy, include: [], exclude: [] });
    expect(walked.method).toBe('walk');
    expect([...walked.untracked].sort()).toEqual(['a.c', 'sub/b.c']);
  });

  it('gives the ids git computes for the content in the working tree', async () => {
    const files = ['src/main.c', 'src/util.c', 'src/new.c', 'tools/flip.sh', 'docs/with space é.md'];
    expect(files.map((p) => viaGit.get(p)?.hash)).toEqual(await gitIds(dir, files));
  });

  it('records kinds and link targets as they are in the working tree', () => {
    expect(viaGit.get('tools/gen.sh')).toMatchObject({ kind: 'exec' });
    expect(viaGit.get('tools/flip.sh')).toMatchObject({ kind: 'exec' });
    expect(viaGit.get('src/main.c')).toMatchObject({ kind: 'file' });
    expect(viaGit.get('data/current')).toMatchObject({ kind: 'link', target: 'a.txt' });
    expect(viaGit.get('src/linked.txt')).toMatchObject({ kind: 'link', target: '../data/a.txt' });
    expect(viaGit.get('src/new-link.c')).toMatchObject({ kind: 'link', target: 'new.c' });
  });

  it('lists a gitignored file only in a walk', async () => {
    expect(viaGit.has('src/main.o')).toBe(false);
    expect((await walkManifest(dir)).get('src/main.o')).toMatchObject({ kind: 'file' });
  });

  it('skips a build directory nested in the sources, in git and walk modes alike', async () => {
    await writeFiles(dir, { 'out/tracked-looking.c': 'int x;\n' });
    try {
      const inGit = await scanSources({ sourceDir: dir, buildDir: join(dir, 'out'), include: [], exclude: [] });
      expect([...inGit.sources.keys()].filter((p) => p.startsWith('out/'))).toEqual([]);
      const walked = await walkTree(dir, { include: [], exclude: [], skipDirs: new Set(['out']) });
      expect(walked.filter((p) => p.startsWith('out/'))).toEqual([]);
    } finally {
      await rm(join(dir, 'out'), { recursive: true });
    }
  });

  it('walks a project that lies in a directory git ignores, instead of listing nothing', async () => {
    const project = join(dir, 'ignored-dir/project');
    await writeFiles(project, { Makefile: 'all:\n', 'src/a.c': 'int a;\n' });
    try {
      const scanned = await scanSources({ sourceDir: project, buildDir: project, include: [], exclude: [] });
      expect(scanned.method).toBe('walk');
      expect([...scanned.sources.keys()]).toEqual(['Makefile', 'src/a.c']);
    } finally {
      await rm(project, { recursive: true });
    }
  });

  it('scans a subdirectory of a work tree relative to itself', async () => {
    const sub = await scanSources({ sourceDir: join(dir, 'src'), buildDir: join(dir, 'src'), include: [], exclude: [] });
    expect(sub.method).toBe('git');
    expect([...sub.sources.keys()]).toEqual(['linked.txt', 'main.c', 'new-link.c', 'new.c', 'util.c']);
    expect(sub.sources.get('util.c')).toEqual(viaGit.get('src/util.c'));
  });

  it('walks a work tree when git is not installed (a minimal image, a sandbox)', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = await tempDir('orchestrate-no-git-');
    try {
      const scanned = await scanSources({ sourceDir: dir, buildDir: dir, include: [], exclude: ['**/*.o', 'ignored-dir/**'] });
      expect(scanned.method).toBe('walk');
      expect(scanned.sources.get('src/util.c')).toEqual(viaGit.get('src/util.c'));
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('gives the same manifest for a copy of the tree outside git, found by a walk', async () => {
    const copy = join(await tempDir('orchestrate-sources-copy-'), 'plain');
    await execa('cp', ['-a', dir, copy]);
    await rm(join(copy, '.git'), { recursive: true });
    const scanned = await scanSources({ sourceDir: copy, buildDir: copy, include: [], exclude: ['**/*.o', 'ignored-dir/**'] });
    expect(scanned.method).toBe('walk');
    expect([...scanned.sources]).toEqual([...viaGit]);
  });
});

describe('source listing in a fresh clone', () => {
  // A clone writes every file within the second of its index, so git itself trusts no stat (it
  // compares seconds); the listing trusts an equal stat with nanoseconds, and must still see edits.
  let clone = '';
  let original: Map<string, SourceEntry>;

  beforeAll(async () => {
    const repo = join(await tempDir('orchestrate-clone-origin-'), 'repo');
    await mkdir(repo);
    await git(repo, 'init', '-q');
    await writeFiles(repo, { 'a.c': 'int a;\n', 'b.c': 'int b;\n', 'c.c': 'int c;\n', 'tool.sh': '#!/bin/sh\n' });
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'initial');
    clone = join(await tempDir('orchestrate-clone-'), 'clone');
    await git(repo, 'clone', '-q', repo, clone);
    original = (await scanSources({ sourceDir: clone, buildDir: clone, include: [], exclude: [] })).sources;
  });

  const scan = async (): Promise<Map<string, SourceEntry>> =>
    (await scanSources({ sourceDir: clone, buildDir: clone, include: [], exclude: [] })).sources;

  it('lists the index ids of the untouched files', async () => {
    expect(original.get('a.c')?.hash).toBe((await gitIds(clone, ['a.c']))[0]);
    expect([...original.keys()]).toEqual(['a.c', 'b.c', 'c.c', 'tool.sh']);
  });

  it('sees an edit of the same size made right after the clone', async () => {
    await writeFile(join(clone, 'a.c'), 'int z;\n');
    expect((await scan()).get('a.c')?.hash).toBe((await gitIds(clone, ['a.c']))[0]);
    expect((await scan()).get('a.c')?.hash).not.toBe(original.get('a.c')?.hash);
  });

  it('sees an edit of the same size whose mtime was put back to the recorded one (by its ctime)', async () => {
    const file = join(clone, 'b.c');
    const { mtimeNs } = lstatSync(file, { bigint: true });
    await writeFile(file, 'int y;\n');
    await execa('touch', ['-m', '-d', `@${mtimeNs / 1_000_000_000n}.${(mtimeNs % 1_000_000_000n).toString().padStart(9, '0')}`, file]);
    expect(lstatSync(file, { bigint: true }).mtimeNs).toBe(mtimeNs);
    expect((await scan()).get('b.c')?.hash).toBe((await gitIds(clone, ['b.c']))[0]);
  });

  it('sees a mode change and a deletion', async () => {
    await chmod(join(clone, 'tool.sh'), 0o755);
    await rm(join(clone, 'c.c'));
    const sources = await scan();
    expect(sources.get('tool.sh')).toEqual({ ...original.get('tool.sh'), kind: 'exec' });
    expect(sources.has('c.c')).toBe(false);
  });
});
