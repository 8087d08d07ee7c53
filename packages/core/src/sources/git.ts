/**
 * Source listing in a git work tree: tracked files with their index blob ids,
 * plus untracked files that are not ignored. Only files that differ from
 * their index entry, and untracked ones, are hashed by orchestrate.
 */
import { lstatSync, type Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { runProcess, type RunProcessResult } from '../process.js';
import { hashFiles } from './walk.js';
import type { SourceEntry } from './manifest.js';

function git(dir: string, args: string[]): Promise<RunProcessResult> {
  return runProcess('git', ['-c', 'core.quotepath=off', ...args], { cwd: dir, keepFinalNewline: true });
}

function stdoutOf(result: RunProcessResult, dir: string): string {
  if (result.failed) {
    throw new Error(
      `${result.command} failed in '${dir}' (exit ${result.exitCode ?? result.signal ?? 'none'}): ${(result.error?.message ?? result.stderr).trim()}`,
    );
  }
  return result.stdout;
}

function listWorkTree(dir: string): Promise<RunProcessResult> {
  return git(dir, ['ls-files', '-z', '-t', '-s', '--debug', '-o', '--exclude-standard', '--', '.']);
}

/**
 * The stat data git keeps in an index entry (`ls-files --debug`), as git
 * stores it (32-bit seconds, inode and size), with the times as node gives
 * them: milliseconds as `sec * 1e3 + nsec / 1e6`, computed exactly as node
 * computes `Stats.mtimeMs` from the same two numbers, so equal times give
 * equal doubles (a stat without BigInt: ~3x less work per file of a large tree).
 */
interface IndexStat {
  readonly ctimeMs: number;
  readonly mtimeMs: number;
  /** The nanoseconds of the mtime, for the trust rule of {@link matchesIndex}. */
  readonly mtimeNsec: number;
  readonly ino: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly flags: number;
}

/** As node's `msFromTimeSpec` (lib/internal/fs/utils.js). */
const msOf = (sec: string, nsec: string): number => Number(sec) * 1000 + Number(nsec) / 1_000_000;

// In-memory flags of a cache entry (git's cache.h), as --debug prints them.
const CE_VALID = 0x8000; // assume-unchanged
const CE_INTENT_TO_ADD = 1 << 29;
const CE_SKIP_WORKTREE = 1 << 30;

const DEBUG_BLOCK =
  /^ {2}ctime: (\d+):(\d+)\n {2}mtime: (\d+):(\d+)\n {2}dev: \d+\tino: (\d+)\n {2}uid: (\d+)\tgid: (\d+)\n {2}size: (\d+)\tflags: ([0-9a-f]+)\n/;

/** {@link DEBUG_BLOCK} matched where the record ends, in the whole output. */
const DEBUG_BLOCK_AT = new RegExp(DEBUG_BLOCK.source.slice(1), 'y');

const TWO_32 = 4294967296;

/**
 * Whether the file is as its index entry recorded it, by stat alone: git's
 * own test (ctime, mtime, inode, owner, size and the kind of file; not the
 * device). git trusts an equal stat only for files older than the index by a
 * whole second (it compares seconds), so in a fresh clone, written within the
 * second of its index, `ls-files -m` reads every file; a timestamp with
 * nanoseconds that are not a multiple of 1000 comes from a file system that
 * keeps them, where a write after the entry was recorded always changes the
 * mtime or the ctime, so the equal stat is trusted. A coarser timestamp is
 * not, and the file is hashed.
 */
function matchesIndex(entry: IndexStat, mode: string, info: Stats): boolean {
  const kind = info.isSymbolicLink() ? '120000' : info.isFile() ? ((info.mode & 0o100) !== 0 ? '100755' : '100644') : undefined;
  return (
    entry.mtimeNsec % 1000 !== 0 &&
    kind === mode &&
    info.ctimeMs === entry.ctimeMs &&
    info.mtimeMs === entry.mtimeMs &&
    info.ino % TWO_32 === entry.ino &&
    info.uid === entry.uid &&
    info.gid === entry.gid &&
    info.size % TWO_32 === entry.size
  );
}

/** A git listing started ahead of {@link tryGitSources}, e.g. while plugins load. */
export interface GitListing {
  /** The directory listed (absolute). */
  readonly dir: string;
  readonly result: Promise<RunProcessResult>;
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
 * with `-s` (the index's blob ids), `--debug` (each entry's stat data, which
 * {@link matchesIndex} compares with the file's) and `-o` (untracked, not
 * ignored). Each record is `<tag> <mode> <id> <stage>\t<path>` followed by
 * its stat lines, or `? <path>` for an untracked file.
 */
export async function tryGitSources(dir: string, skip: (path: string) => boolean, started?: GitListing): Promise<GitSources | undefined> {
  // Inside a .git directory, git lists the index without a work tree.
  if (resolve(dir).split(sep).includes('.git')) return undefined;
  const listed = await (started?.dir === resolve(dir) ? started.result : listWorkTree(dir));
  // git not installed, outside a repository, or in a bare one: not a work tree.
  if (listed.exitCode === undefined || listed.exitCode === 128) return undefined;
  const output = stdoutOf(listed, dir);

  const indexed = new Map<string, { mode: string; hash: string }>();
  const dirty = new Set<string>();
  const untracked = new Set<string>();
  for (let at = 0; at < output.length;) {
    const end = output.indexOf('\0', at);
    if (end < 0) throw new Error(`git ls-files printed an unterminated record in '${dir}'`);
    const record = output.slice(at, end);
    at = end + 1;
    if (record[0] === '?') {
      dirty.add(record.slice(2));
      untracked.add(record.slice(2));
      continue;
    }
    // Matched in place (sticky), not on a slice: one allocation fewer per file of an 11k-file tree.
    DEBUG_BLOCK_AT.lastIndex = at;
    const stat = DEBUG_BLOCK_AT.exec(output);
    if (!stat) throw new Error(`git ls-files --debug printed no stat data for '${record}' in '${dir}'`);
    at += stat[0].length;
    // <tag> SP <mode> SP <object> SP <stage> TAB <file>
    const tab = record.indexOf('\t');
    const [, mode, hash, stage] = record.slice(0, tab).split(' ');
    const path = record.slice(tab + 1);
    if (!mode || !hash || skip(path)) continue;
    if (stage !== '0') {
      dirty.add(path); // a merge conflict
      continue;
    }
    if (mode === '160000') continue; // a submodule: not a file of this tree
    const [, ctimeS = '', ctimeNs = '', mtimeS = '', mtimeNs = '', ino = '', uid = '', gid = '', size = '', flags = ''] = stat;
    const entry: IndexStat = {
      ctimeMs: msOf(ctimeS, ctimeNs),
      mtimeMs: msOf(mtimeS, mtimeNs),
      mtimeNsec: Number(mtimeNs),
      ino: Number(ino),
      uid: Number(uid),
      gid: Number(gid),
      size: Number(size),
      flags: Number.parseInt(flags, 16),
    };
    // As git status does: assumed unchanged and sparse (skip-worktree) entries are their index entry.
    if ((entry.flags & (CE_VALID | CE_SKIP_WORKTREE)) !== 0 && (entry.flags & CE_INTENT_TO_ADD) === 0) {
      indexed.set(path, { mode, hash });
      continue;
    }
    const info = lstatSync(join(dir, path), { throwIfNoEntry: false });
    if (!info) continue; // deleted
    if ((entry.flags & CE_INTENT_TO_ADD) === 0 && matchesIndex(entry, mode, info)) indexed.set(path, { mode, hash });
    else dirty.add(path);
  }

  const result = new Map<string, SourceEntry>();
  const links: string[] = [];
  for (const [path, { mode, hash }] of indexed) {
    if (mode === '120000') links.push(path);
    result.set(path, { hash, kind: mode === '100755' ? 'exec' : 'file' });
  }
  await Promise.all(
    links.map(async (path) => {
      const entry = result.get(path);
      if (entry) result.set(path, { hash: entry.hash, kind: 'link', target: await readlink(join(dir, path)) });
    }),
  );
  const hashed = await hashFiles(
    dir,
    [...dirty].filter((p) => !skip(p)),
  );
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
