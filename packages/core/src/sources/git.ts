/**
 * Source listing in a git work tree: tracked files with their index blob ids,
 * plus untracked files that are not ignored. Only files git reports as
 * different from the index, and untracked ones, are hashed by orchestrate.
 */
import { readlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { spawnCapture, type SpawnResult } from '../process.js';
import { hashFiles } from './walk.js';
import type { SourceEntry } from './manifest.js';

function git(dir: string, args: string[]): Promise<SpawnResult> {
  return spawnCapture('git', ['-c', 'core.quotepath=off', ...args], { cwd: dir, keepFinalNewline: true });
}

function stdoutOf(result: SpawnResult, dir: string): string {
  if (result.failed) {
    throw new Error(
      `${result.command} failed in '${dir}' (exit ${result.exitCode ?? result.signal ?? 'none'}): ${(result.error?.message ?? result.stderr).trim()}`,
    );
  }
  return result.stdout;
}

function splitZ(text: string): string[] {
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function listWorkTree(dir: string): Promise<SpawnResult> {
  return git(dir, ['ls-files', '-z', '-t', '-s', '-m', '-d', '-o', '--exclude-standard', '--', '.']);
}

/** A git listing started ahead of {@link tryGitSources}, e.g. while plugins load. */
export interface GitListing {
  /** The directory listed (absolute). */
  readonly dir: string;
  readonly result: Promise<SpawnResult>;
}

/** Starts listing `dir`; pass the result to {@link tryGitSources} for the same directory. */
export function startGitListing(dir: string): GitListing {
  return { dir: resolve(dir), result: listWorkTree(dir) };
}

/**
 * Lists the sources below `dir` in a git work tree, relative to `dir`, or
 * returns `undefined` when `dir` is not in a work tree. `skip` filters paths
 * that are not sources (build directory, state files).
 *
 * One git process, on the critical path of every build: `git ls-files -t`
 * with `-s` (the index's blob ids), `-m` and `-d` (modified and deleted,
 * compared as `git status` does, racily clean entries by content) and `-o`
 * (untracked, not ignored). Each record is `<tag> <mode> <id> <stage>\t<path>`,
 * or `? <path>` for an untracked file; a path is listed once per tag
 * (`H` cached, `C` modified, `R` removed...).
 */
export async function tryGitSources(
  dir: string,
  skip: (path: string) => boolean,
  started?: GitListing,
): Promise<GitSources | undefined> {
  // Inside a .git directory, git lists the index without a work tree.
  if (resolve(dir).split(sep).includes('.git')) return undefined;
  const listed = await (started?.dir === resolve(dir) ? started.result : listWorkTree(dir));
  // git not installed, outside a repository, or in a bare one: not a work tree.
  if (listed.exitCode === undefined || listed.exitCode === 128) return undefined;
  const output = stdoutOf(listed, dir);

  const indexed = new Map<string, { mode: string; hash: string }>();
  const dirty = new Set<string>();
  const deleted = new Set<string>();
  const untracked = new Set<string>();
  for (const record of splitZ(output)) {
    const tag = record[0];
    if (tag === '?') {
      dirty.add(record.slice(2));
      untracked.add(record.slice(2));
      continue;
    }
    // <tag> SP <mode> SP <object> SP <stage> TAB <file>
    const tab = record.indexOf('\t');
    const [, mode, hash, stage] = record.slice(0, tab).split(' ');
    const path = record.slice(tab + 1);
    if (!mode || !hash) continue;
    if (tag === 'R') deleted.add(path);
    else if (tag === 'C' || tag === 'K' || stage !== '0') dirty.add(path); // changed, to be replaced, or a merge conflict
    else indexed.set(path, { mode, hash });
  }

  const result = new Map<string, SourceEntry>();
  const links: string[] = [];
  for (const [path, { mode, hash }] of indexed) {
    if (skip(path) || deleted.has(path) || dirty.has(path)) continue;
    if (mode === '160000') continue; // a submodule: not a file of this tree
    if (mode === '120000') links.push(path);
    result.set(path, { hash, kind: mode === '100755' ? 'exec' : 'file' });
  }
  await Promise.all(
    links.map(async (path) => {
      const entry = result.get(path);
      if (entry) result.set(path, { hash: entry.hash, kind: 'link', target: await readlink(join(dir, path)) });
    }),
  );
  const hashed = await hashFiles(dir, [...dirty].filter((p) => !deleted.has(p) && !skip(p)));
  for (const [path, entry] of hashed) result.set(path, entry);
  return {
    sources: new Map([...result].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    untracked: new Set([...untracked].filter((path) => result.has(path))),
  };
}

/** What {@link tryGitSources} lists. */
export interface GitSources {
  readonly sources: Map<string, SourceEntry>;
  /** The sources git does not track (not ignored either). */
  readonly untracked: ReadonlySet<string>;
}
