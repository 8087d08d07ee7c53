/**
 * The index reader against git itself: for every index git writes here
 * (versions 2, 3 and 4, flags, conflicts, a subdirectory, a linked work tree),
 * the entries it reads equal what `git ls-files -s --debug` prints, and an
 * index it does not read (split, sparse) leaves the listing to git with the
 * same sources as a result.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@orchestrate/core/testing';
import { tryLocateGitIndex, tryParseGitIndex, type GitIndexEntry } from '../src/sources/git-index.js';
import { tryGitSources } from '../src/sources/git.js';
import { hashFiles, walkTree } from '../src/sources/walk.js';
import { writeFiles } from './helpers.js';

async function git(dir: string, ...args: string[]): Promise<string> {
  const env = { ...process.env, GIT_DIR: undefined, GIT_WORK_TREE: undefined, GIT_INDEX_FILE: undefined };
  return String(
    (
      await execa('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], {
        cwd: dir,
        stdin: 'ignore',
        env,
        extendEnv: false,
        stripFinalNewline: false,
      })
    ).stdout,
  );
}

/** `git ls-files -s --debug` as entries (paths relative to the top). */
async function gitEntries(dir: string): Promise<GitIndexEntry[]> {
  const out = await git(dir, '-c', 'core.quotepath=off', 'ls-files', '-s', '--debug', '-z', '--full-name');
  const entries: GitIndexEntry[] = [];
  const record =
    /([0-7]+) ([0-9a-f]+) (\d)\t([^\0]+)\0 {2}ctime: (\d+):(\d+)\n {2}mtime: (\d+):(\d+)\n {2}dev: \d+\tino: (\d+)\n {2}uid: (\d+)\tgid: (\d+)\n {2}size: (\d+)\tflags: ([0-9a-f]+)\n/gy;
  for (const m of out.matchAll(record)) {
    const [, mode = '', oid = '', stage, path = '', cs, cn, ms, mn, ino, uid, gid, size, flags = '0'] = m;
    entries.push({
      path,
      mode,
      oid,
      stage: Number(stage),
      ctimeSec: Number(cs),
      ctimeNsec: Number(cn),
      mtimeSec: Number(ms),
      mtimeNsec: Number(mn),
      ino: Number(ino),
      uid: Number(uid),
      gid: Number(gid),
      size: Number(size),
      // --debug prints in-memory bits besides the stored ones (e.g. CE_UPDATE_IN_BASE); the stored ones are compared.
      flags: Number.parseInt(flags, 16) & (0x8000 | (1 << 29) | (1 << 30) | 0x3000),
    });
  }
  return entries;
}

function read(dir: string): GitIndexEntry[] | undefined {
  const location = tryLocateGitIndex(dir, {});
  if (!location) return undefined;
  return tryParseGitIndex(readFileSync(location.indexFile))?.map((e) => ({
    ...e,
    flags: e.flags & (0x8000 | (1 << 29) | (1 << 30) | 0x3000),
  }));
}

async function repo(): Promise<string> {
  const dir = join(await tempDir('orchestrate-git-index-'), 'repo');
  await mkdir(dir);
  await git(dir, 'init', '-q');
  const files: Record<string, string> = { 'a.txt': 'a\n', 'src/main.c': 'int main;\n', 'src/ünï côdé.c': 'x\n' };
  for (let i = 0; i < 40; i++) files[`deep/${'d'.repeat(i % 7)}/file-${i}.c`] = `${i}\n`;
  await writeFiles(dir, files);
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'one');
  return dir;
}

describe('the git index reader against git', () => {
  for (const version of ['2', '3', '4']) {
    it(`reads an index of version ${version} as git lists it, flags included`, async () => {
      const dir = await repo();
      await git(dir, 'update-index', '--index-version', version);
      await git(dir, 'update-index', '--assume-unchanged', 'a.txt');
      if (version !== '2') {
        await git(dir, 'update-index', '--skip-worktree', 'src/main.c');
        await writeFile(join(dir, 'new.c'), 'new\n');
        await git(dir, 'add', '-N', 'new.c');
      }
      const entries = read(dir);
      expect(entries).toBeDefined();
      expect(entries).toEqual(await gitEntries(dir));
      expect(readFileSync(join(dir, '.git', 'index')).readUInt32BE(4)).toBe(Number(version));
    });
  }

  it('reads the stages of a merge conflict as git lists them', async () => {
    const dir = await repo();
    await git(dir, 'checkout', '-q', '-b', 'other');
    await writeFile(join(dir, 'a.txt'), 'other\n');
    await git(dir, 'commit', '-q', '-am', 'other');
    await git(dir, 'checkout', '-q', '-');
    await writeFile(join(dir, 'a.txt'), 'mine\n');
    await git(dir, 'commit', '-q', '-am', 'mine');
    await git(dir, 'merge', '-q', 'other').catch(() => undefined);
    const entries = read(dir);
    expect(entries?.filter((e) => e.path === 'a.txt').map((e) => e.stage)).toEqual([1, 2, 3]);
    expect(entries).toEqual(await gitEntries(dir));
  });

  it("finds a linked work tree's index through its .git file, and a subdirectory's prefix", async () => {
    const dir = await repo();
    const linked = join(dir, '..', 'linked');
    await git(dir, 'worktree', 'add', '-q', linked);
    const location = tryLocateGitIndex(join(linked, 'src'), {});
    expect(location?.prefix).toBe('src');
    expect(location?.indexFile).toBe(join(dir, '.git', 'worktrees', 'linked', 'index'));
    expect(read(linked)).toEqual(await gitEntries(linked));
  });

  it('leaves the location to git when GIT_DIR or GIT_INDEX_FILE moves it, or the config names a work tree', async () => {
    const dir = await repo();
    expect(tryLocateGitIndex(dir, { GIT_INDEX_FILE: '/elsewhere' })).toBeUndefined();
    expect(tryLocateGitIndex(dir, { GIT_DIR: join(dir, '.git') })).toBeUndefined();
    await git(dir, 'config', 'core.worktree', dir);
    expect(tryLocateGitIndex(dir, {})).toBeUndefined();
  });

  for (const [name, setUp] of [
    ['a split index', (dir: string) => git(dir, 'update-index', '--split-index')],
    ['a sparse index', (dir: string) => git(dir, 'sparse-checkout', 'set', '--sparse-index', 'src')],
  ] as const) {
    it(`does not read ${name}; the listing is then git's, the same as a walk of the files there`, async () => {
      const dir = await repo();
      await setUp(dir);
      await writeFile(join(dir, 'src', 'main.c'), 'changed\n');
      await writeFile(join(dir, 'src', 'untracked.c'), 'untracked\n');
      expect(read(dir)).toBeUndefined();
      const listed = await tryGitSources(dir, () => false);
      const walked = await hashFiles(dir, await walkTree(dir, { include: [], exclude: [], skipDirs: new Set() }));
      for (const [path, entry] of walked) if (path !== '.gitignore') expect(listed?.sources.get(path)).toEqual(entry);
      expect(listed?.untracked).toEqual(new Set(['src/untracked.c']));
    });
  }
});
