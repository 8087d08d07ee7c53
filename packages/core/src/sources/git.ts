/**
 * Source listing in a git work tree: tracked files with their index blob ids,
 * plus untracked files that are not ignored. Only files that differ from
 * their index entry, and untracked ones, are hashed by orchestrate.
 */
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { runProcess, type RunProcessResult } from '../process.js';
import { tryLocateGitIndex, tryParseGitIndex, type GitIndexEntry, type GitIndexLocation } from './git-index.js';
import { hashFiles, sortedByPath } from './walk.js';
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

function listUntracked(dir: string): Promise<RunProcessResult> {
  return git(dir, ['ls-files', '-z', '-o', '--exclude-standard', '--', '.']);
}

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
 * not, and the file is hashed. The times are compared as node gives them:
 * milliseconds as `sec * 1e3 + nsec / 1e6`, computed exactly as node computes
 * `Stats.mtimeMs` (`msFromTimeSpec`, lib/internal/fs/utils.js) from the same
 * two numbers, so equal times give equal doubles (a stat without BigInt: ~3x
 * less work per file of a large tree).
 */
function matchesIndex(entry: GitIndexEntry, info: Stats): boolean {
  const kind = info.isSymbolicLink() ? '120000' : info.isFile() ? ((info.mode & 0o100) !== 0 ? '100755' : '100644') : undefined;
  return (
    entry.mtimeNsec % 1000 !== 0 &&
    kind === entry.mode &&
    info.ctimeMs === entry.ctimeSec * 1000 + entry.ctimeNsec / 1_000_000 &&
    info.mtimeMs === entry.mtimeSec * 1000 + entry.mtimeNsec / 1_000_000 &&
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
  /** Where the index is, when this process reads it itself; then `result` lists only untracked files. */
  readonly index: GitIndexLocation | undefined;
  readonly result: Promise<RunProcessResult>;
}

/** Starts listing `dir`; pass the result to {@link tryGitSources} for the same directory. */
export function startGitListing(dir: string): GitListing {
  const index = resolve(dir).split(sep).includes('.git') ? undefined : tryLocateGitIndex(dir);
  return { dir: resolve(dir), index, result: index ? listUntracked(dir) : listWorkTree(dir) };
}

/** What `ls-files -s --debug -o` printed: the index entries below the directory (paths relative to it) and the untracked files. */
function parseWorkTreeListing(output: string, dir: string): { entries: GitIndexEntry[]; untracked: string[] } {
  const entries: GitIndexEntry[] = [];
  const untracked: string[] = [];
  for (let at = 0; at < output.length;) {
    const end = output.indexOf('\0', at);
    if (end < 0) throw new Error(`git ls-files printed an unterminated record in '${dir}'`);
    const record = output.slice(at, end);
    at = end + 1;
    if (record[0] === '?') {
      untracked.push(record.slice(2));
      continue;
    }
    // Matched in place (sticky), not on a slice: one allocation fewer per file of an 11k-file tree.
    DEBUG_BLOCK_AT.lastIndex = at;
    const stat = DEBUG_BLOCK_AT.exec(output);
    if (!stat) throw new Error(`git ls-files --debug printed no stat data for '${record}' in '${dir}'`);
    at += stat[0].length;
    // <tag> SP <mode> SP <object> SP <stage> TAB <file>
    const tab = record.indexOf('\t');
    const [, mode, oid, stage] = record.slice(0, tab).split(' ');
    if (!mode || !oid) continue;
    const [, ctimeS, ctimeNs, mtimeS, mtimeNs, ino, uid, gid, size] = stat.map(Number);
    entries.push({
      path: record.slice(tab + 1),
      mode,
      oid,
      stage: Number(stage),
      ctimeSec: ctimeS ?? 0,
      ctimeNsec: ctimeNs ?? 0,
      mtimeSec: mtimeS ?? 0,
      mtimeNsec: mtimeNs ?? 0,
      ino: ino ?? 0,
      uid: uid ?? 0,
      gid: gid ?? 0,
      size: size ?? 0,
      flags: Number.parseInt(stat[9] ?? '0', 16),
    });
  }
  return { entries, untracked };
}

/**
 * The index entries below `location.prefix`, relative to it, read from the
 * index file; `undefined` when the reader does not handle this index (then
 * git lists it). No index file: nothing added yet.
 */
function tryReadIndexBelow(location: GitIndexLocation): GitIndexEntry[] | undefined {
  let data: Buffer;
  try {
    data = readFileSync(location.indexFile);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? [] : undefined;
  }
  const all = tryParseGitIndex(data);
  if (!all || location.prefix === '') return all;
  const prefix = `${location.prefix}/`;
  const below: GitIndexEntry[] = [];
  for (const entry of all) if (entry.path.startsWith(prefix)) below.push({ ...entry, path: entry.path.slice(prefix.length) });
  return below;
}

/**
 * Lists the sources below `dir` in a git work tree, relative to `dir`, or
 * returns `undefined` when `dir` is not in a work tree. `skip` filters paths
 * that are not sources (build directory, state files).
 *
 * On the critical path of every build. The index is read from its file
 * ({@link tryParseGitIndex}: the blob ids and the stat data git recorded,
 * which {@link matchesIndex} compares with the file's), while one git process,
 * `ls-files -o --exclude-standard`, lists the untracked files that are not
 * ignored and says whether `dir` is in a work tree at all. An index the reader
 * does not handle is listed by git: `ls-files -t -s --debug -o`, each record
 * `<tag> <mode> <id> <stage>\t<path>` followed by its stat lines, or
 * `? <path>` for an untracked file.
 */
export async function tryGitSources(dir: string, skip: (path: string) => boolean, started?: GitListing): Promise<GitSources | undefined> {
  // Inside a .git directory, git lists the index without a work tree.
  if (resolve(dir).split(sep).includes('.git')) return undefined;
  const listing = started?.dir === resolve(dir) ? started : startGitListing(dir);
  let entries = listing.index && tryReadIndexBelow(listing.index);
  let listed = await listing.result;
  // git not installed, outside a repository, or in a bare one: not a work tree.
  if (listed.exitCode === undefined || listed.exitCode === 128) return undefined;
  let untracked: string[];
  if (entries) {
    untracked = stdoutOf(listed, dir).split('\0');
    untracked.pop(); // after the last NUL
  } else {
    if (listing.index) listed = await listWorkTree(dir);
    ({ entries, untracked } = parseWorkTreeListing(stdoutOf(listed, dir), dir));
  }

  // Entries whose stat matches, with their index blob ids (links get their targets below).
  const result = new Map<string, SourceEntry>();
  const links: string[] = [];
  const indexed = (entry: GitIndexEntry): void => {
    if (entry.mode === '120000') links.push(entry.path);
    result.set(entry.path, { hash: entry.oid, kind: entry.mode === '100755' ? 'exec' : 'file' });
  };
  const dirty = new Set<string>(untracked);
  const root = resolve(dir);
  for (const entry of entries) {
    const path = entry.path;
    if (skip(path)) continue;
    if (entry.stage !== 0) {
      dirty.add(path); // a merge conflict
      continue;
    }
    if (entry.mode === '160000') continue; // a submodule: not a file of this tree
    // As git status does: assumed unchanged and sparse (skip-worktree) entries are their index entry.
    const flags = entry.flags;
    if ((flags & (CE_VALID | CE_SKIP_WORKTREE)) !== 0 && (flags & CE_INTENT_TO_ADD) === 0) {
      indexed(entry);
      continue;
    }
    // Index paths are normalized (no '.', '..' or '//'): joined without path.join's normalization.
    const info = lstatSync(`${root}/${path}`, { throwIfNoEntry: false });
    if (!info) continue; // deleted
    if ((flags & CE_INTENT_TO_ADD) === 0 && matchesIndex(entry, info)) indexed(entry);
    else dirty.add(path);
  }
  // Read at another moment than the untracked list: a file added in between is hashed, as tracked.
  const untrackedSet = new Set(untracked.filter((path) => !result.has(path)));

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
    sources: sortedByPath(result),
    untracked: new Set([...untrackedSet].filter((path) => result.has(path))),
  };
}

/** What {@link tryGitSources} lists. */
export interface GitSources {
  readonly sources: Map<string, SourceEntry>;
  /** The sources git does not track (not ignored either). */
  readonly untracked: ReadonlySet<string>;
}
