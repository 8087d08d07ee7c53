/**
 * Source listing in a git work tree: tracked files with their index blob ids,
 * plus untracked files that are not ignored. Only files git reports as
 * different from the index, and untracked ones, are hashed by orchestrate.
 */
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
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

/**
 * Lists the sources below `dir` in a git work tree, relative to `dir`, or
 * returns `undefined` when `dir` is not in a work tree. `skip` filters paths
 * that are not sources (build directory, state files).
 */
export async function tryGitSources(dir: string, skip: (path: string) => boolean): Promise<Map<string, SourceEntry> | undefined> {
  // Three git processes at once, the work-tree test among them: each is a fork and exec on the critical path.
  const [where, listed, changed] = await Promise.all([
    git(dir, ['rev-parse', '--is-inside-work-tree', '--show-prefix']),
    git(dir, ['ls-files', '-z', '-s', '--full-name', '--', '.']),
    git(dir, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames', '--', '.']),
  ]);
  // Outside a repository, or in a .git directory or a bare one: not a work tree.
  const [inside = '', prefixLine = ''] = where.exitCode === 0 ? where.stdout.split('\n') : [];
  if (inside !== 'true') return undefined;
  const prefix = prefixLine.trim();
  const staged = stdoutOf(listed, dir);
  const status = stdoutOf(changed, dir);
  const strip = (fullName: string): string | undefined =>
    fullName.startsWith(prefix) ? fullName.slice(prefix.length) : undefined;

  const dirty = new Set<string>();
  const deleted = new Set<string>();
  for (const record of splitZ(status)) {
    const x = record[0];
    const y = record[1];
    const path = strip(record.slice(3));
    if (path === undefined) continue;
    if (x === '?' || y === 'M' || y === 'T' || y === 'A') dirty.add(path);
    else if (y === 'D' || (x === 'D' && y === ' ')) deleted.add(path);
  }

  const result = new Map<string, SourceEntry>();
  const links: string[] = [];
  for (const record of splitZ(staged)) {
    // <mode> SP <object> SP <stage> TAB <file>
    const tab = record.indexOf('\t');
    const [mode, hash, stage] = record.slice(0, tab).split(' ');
    const path = strip(record.slice(tab + 1));
    if (path === undefined || !mode || !hash || skip(path) || deleted.has(path) || dirty.has(path)) continue;
    if (stage !== '0') {
      dirty.add(path); // a merge conflict: the work tree decides
      continue;
    }
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
  const hashed = await hashFiles(dir, [...dirty].filter((p) => !skip(p)));
  for (const [path, entry] of hashed) result.set(path, entry);
  return new Map([...result].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
