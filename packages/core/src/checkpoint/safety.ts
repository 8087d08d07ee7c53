/**
 * What a restore may write. A checkpoint is untrusted input (it may come from
 * another machine, a shared store, or be forged: a manifest's id is only the
 * hash of its own text), so its paths are checked against the working tree
 * as it is on disk, before the first write:
 *
 * - nothing inside version-control metadata (`.git/`, `.hg/`, `.svn/`, …);
 * - no source the working tree tracks;
 * - no existing file, link or directory that orchestrate cannot show to be
 *   build output of this tree: it lies in a dedicated build directory (a
 *   CMake binary directory, a Cargo target directory, an object directory),
 *   an earlier run in this tree wrote it as state (the tree ledger), or it
 *   already holds exactly the bytes (or link target) the restore would write;
 * - nothing reached through a symbolic link, on disk or restored, that leads
 *   outside the build directory, onto a source, or onto a file that is not
 *   build output (a later write through the link, by the restore's plugins or
 *   by the compiler, would land there).
 *
 * A violation is a {@link CheckpointRefusedError} naming the path and the rule.
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { WorkingTree } from '../context.js';
import { sha256 } from '../sources/hash.js';
import type { StateRecord } from './manifest.js';
import { ancestors, relativeInside } from './paths.js';

const REFUSAL = Symbol.for('orchestrate.refusal');

/**
 * Thrown (by the core, or by a plugin from `beforeRestore`, `restoreFile` or
 * `afterRestore`) when a checkpoint cannot be used safely. Not an error of the
 * run: the restored files are removed and the build goes on in full, printing
 * `reason`.
 */
export class CheckpointRefusedError extends Error {
  readonly [REFUSAL] = true;
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'CheckpointRefusedError';
    this.reason = reason;
  }
}

/** True for a {@link CheckpointRefusedError} from any copy of the package. */
export function isCheckpointRefusal(value: unknown): value is CheckpointRefusedError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[REFUSAL] === true;
}

/** Directory names of version-control metadata: never written, whatever a checkpoint says. */
export const VCS_DIRS: ReadonlySet<string> = new Set(['.git', '.hg', '.svn', '.bzr', '.jj', '_darcs']);

export interface WriteRulesOptions {
  readonly sourceDir: string;
  readonly buildDir: string;
  readonly tree: WorkingTree;
  /** Build-directory paths that earlier runs in this tree wrote as state. */
  readonly knownOutputs: ReadonlySet<string>;
}

/**
 * Where the link at `path` leads, relative to the build directory, following
 * the plan's other links as the file system will; `undefined` when it leaves
 * the build directory, is absolute or empty, or loops.
 */
export function tryResolveLinkInPlan(path: string, entries: ReadonlyMap<string, StateRecord>): string | undefined {
  let hops = 0;
  const walk = (from: readonly string[], target: string): string[] | undefined => {
    if (target === '' || isAbsolute(target)) return undefined;
    const at = [...from];
    for (const segment of target.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        if (at.length === 0) return undefined;
        at.pop();
        continue;
      }
      at.push(segment);
      const record = entries.get(at.join('/'));
      if (record?.kind !== 'link') continue;
      if (++hops > 40) return undefined;
      const next = walk(at.slice(0, -1), record.target ?? '');
      if (next === undefined) return undefined;
      at.splice(0, at.length, ...next);
    }
    return at;
  };
  return walk(path.split('/').slice(0, -1), entries.get(path)?.target ?? '')?.join('/');
}

/** A path that `path.join` would change: empty, absolute, a `.` or `..` segment, `//`, a trailing `/`, a backslash. */
const UNPLAIN_PATH = /^$|^\/|\/$|\/\/|(?:^|\/)\.{1,2}(?:\/|$)|\\/;

/** The rules every path of a plan is held to; see the module comment. */
export class WriteRules {
  readonly #options: WriteRulesOptions;
  /** The build directory is the build tool's alone: neither the source directory nor one that holds it. */
  readonly dedicated: boolean;

  /** The build directory relative to the source directory, when it lies inside it (or is it): `''`, `build`. */
  readonly #buildInSource: string | undefined;

  constructor(options: WriteRulesOptions) {
    this.#options = options;
    const { sourceDir, buildDir } = options;
    this.dedicated = buildDir !== sourceDir && relativeInside(buildDir, sourceDir) === undefined;
    this.#buildInSource = relativeInside(sourceDir, buildDir);
  }

  /** `path` (relative to the build directory) relative to the source directory, when it lies there. */
  #sourcePath(path: string): string | undefined {
    // A plain relative path (no '.', '..' or empty segment) below a build directory inside the source
    // directory: the same answer without path.join and path.relative, for each of a large state's paths.
    const inSource = this.#buildInSource;
    if (inSource !== undefined && !UNPLAIN_PATH.test(path)) return inSource === '' ? path : `${inSource}/${path}`;
    return relativeInside(this.#options.sourceDir, join(this.#options.buildDir, path));
  }

  /** Refuses a path inside version-control metadata or on a tracked source. */
  checkNotSource(path: string, what: string): void {
    const sourcePath = this.#sourcePath(path);
    const segments = (sourcePath ?? path).split('/');
    const vcs = segments.find((segment) => VCS_DIRS.has(segment));
    if (vcs !== undefined) throw new CheckpointRefusedError(`${what} '${path}' lies in version-control metadata ('${vcs}')`);
    const { sources, untracked } = this.#options.tree;
    if (sourcePath !== undefined && sources.has(sourcePath) && !untracked.has(sourcePath)) {
      throw new CheckpointRefusedError(`${what} '${path}' is a tracked source of the working tree`);
    }
  }

  /**
   * True when what stands at `path` is known to be build output without
   * reading it: a dedicated build directory, or the tree ledger. The caller
   * compares the bytes otherwise.
   */
  isKnownOutput(path: string): boolean {
    const sourcePath = this.#sourcePath(path);
    // An untracked file of the working tree that is not ignored may be the user's new source.
    if (this.dedicated && (sourcePath === undefined || !this.#options.tree.sources.has(sourcePath))) return true;
    return this.#options.knownOutputs.has(path);
  }
}

/**
 * The structural checks of a plan, before any blob is read: paths, links
 * (in the plan and on disk), directories. Synchronous stats, like the writes.
 */
export function checkPlanPaths(rules: WriteRules, buildDir: string, entries: ReadonlyMap<string, StateRecord>): void {
  const dirs = new Set<string>();
  // Case-folded: on a case-insensitive file system 'Out' and 'out' are one entry.
  const links = new Set<string>();
  for (const [path, record] of entries) {
    rules.checkNotSource(path, 'its state file');
    if ((record.kind === 'file' || record.kind === 'exec') && record.blob === undefined) {
      throw new CheckpointRefusedError(`its state file '${path}' has no blob`);
    }
    if (record.kind === 'link') {
      checkLinkTarget(rules, buildDir, path, entries);
      links.add(path.toLowerCase());
    }
    for (const dir of ancestors(path)) dirs.add(dir);
  }
  /** Directories of the plan that are not on disk: nothing stands below them (no stat for each file of a new tree). */
  const absent = new Set<string>();
  for (const dir of dirs) {
    const info = lstatSync(join(buildDir, dir), { throwIfNoEntry: false });
    if (!info) absent.add(dir);
    if (info?.isSymbolicLink() && entries.get(dir)?.kind !== 'link') {
      throw new CheckpointRefusedError(`'${dir}' in the build directory is a symbolic link; restoring through it could write outside`);
    }
    if (links.has(dir.toLowerCase())) {
      throw new CheckpointRefusedError(`its symbolic link '${dir}' would be a parent directory of other state files`);
    }
    if (info && !info.isDirectory() && !info.isSymbolicLink() && entries.get(dir)?.kind !== 'dir') {
      throw new CheckpointRefusedError(`'${dir}' in the build directory is a file where the checkpoint has a directory`);
    }
  }
  // A directory of the working tree is never replaced by a file: it may hold the user's files.
  for (const [path, record] of entries) {
    if (record.kind === 'dir') continue;
    const slash = path.lastIndexOf('/');
    if (slash > 0 && absent.has(path.slice(0, slash))) continue;
    const info = lstatSync(join(buildDir, path), { throwIfNoEntry: false });
    if (info?.isDirectory()) {
      throw new CheckpointRefusedError(`its state file '${path}' would replace the directory '${path}' of the working tree`);
    }
  }
}

/**
 * A restored link is followed later (by a plugin rewriting the file, by the
 * compiler writing an output): where it leads is held to the same rules as a
 * path the restore writes.
 */
function checkLinkTarget(rules: WriteRules, buildDir: string, path: string, entries: ReadonlyMap<string, StateRecord>): void {
  const record = entries.get(path);
  // Followed through the plan's other links: `d/y -> ..` then `x -> d/y/../out` leaves the directory.
  const target = tryResolveLinkInPlan(path, entries);
  if (target === undefined) {
    throw new CheckpointRefusedError(`its symbolic link '${path}' points outside the build directory ('${record?.target ?? ''}')`);
  }
  if (target === '') return; // the build directory itself
  rules.checkNotSource(target, `its symbolic link '${path}' leads to`);
  // On disk, a link the plan does not replace may lead anywhere.
  for (const at of [...ancestors(target), target]) {
    if (entries.has(at)) continue;
    const info = lstatSync(join(buildDir, at), { throwIfNoEntry: false });
    if (!info) break;
    if (info.isSymbolicLink()) {
      throw new CheckpointRefusedError(
        `its symbolic link '${path}' leads through '${at}', a symbolic link on disk the checkpoint does not hold`,
      );
    }
    if (at === target && !info.isDirectory() && !rules.isKnownOutput(target)) {
      throw new CheckpointRefusedError(
        `its symbolic link '${path}' leads to '${target}', which exists and is not known to be build output`,
      );
    }
  }
}

/** SHA-256 of the file at `abs`, or `undefined` when it cannot be read. */
function tryHashFile(abs: string): string | undefined {
  try {
    return sha256(readFileSync(abs));
  } catch {
    return undefined;
  }
}

/**
 * Whether nothing stands at a directory path below `buildDir` (relative,
 * POSIX), each directory asked once and its parent first: a restore into a
 * new tree stats its top directories only, not each of its files.
 */
function absentDirs(buildDir: string): (dir: string) => boolean {
  const known = new Map<string, boolean>();
  const isAbsent = (dir: string): boolean => {
    let absent = known.get(dir);
    if (absent !== undefined) return absent;
    const slash = dir.lastIndexOf('/');
    absent = (slash > 0 && isAbsent(dir.slice(0, slash))) || !lstatSync(join(buildDir, dir), { throwIfNoEntry: false });
    known.set(dir, absent);
    return absent;
  };
  return isAbsent;
}

/**
 * Every existing entry the restore would replace or remove must be build
 * output: known as such ({@link WriteRules.isKnownOutput}), or holding
 * exactly what the restore writes there (`expectedHash`: the SHA-256 of the
 * bytes it will write). Runs after the plugins' transforms, before any write.
 */
export function checkOverwrites(
  rules: WriteRules,
  buildDir: string,
  entries: ReadonlyMap<string, StateRecord>,
  expectedHash: (path: string, record: StateRecord) => string | undefined,
): void {
  const isAbsent = absentDirs(buildDir);
  for (const [path, record] of entries) {
    const slash = path.lastIndexOf('/');
    if (slash > 0 && isAbsent(path.slice(0, slash))) continue;
    const abs = join(buildDir, path);
    const info = lstatSync(abs, { throwIfNoEntry: false });
    if (!info || (record.kind === 'dir' && info.isDirectory()) || rules.isKnownOutput(path)) continue;
    let same = false;
    if (record.kind === 'link') same = info.isSymbolicLink() && readlinkSync(abs) === record.target;
    else if (record.kind !== 'dir' && info.isFile()) {
      const expected = expectedHash(path, record);
      same = expected !== undefined && tryHashFile(abs) === expected;
    }
    if (!same) {
      throw new CheckpointRefusedError(
        `'${path}' exists in the working tree with other content, and orchestrate cannot show it is build output of this tree`,
      );
    }
  }
}
