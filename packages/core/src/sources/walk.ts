/**
 * Walking a source tree outside git: every file and symbolic link below the
 * directory, filtered by include/exclude globs, never descending into
 * excluded directories or following links.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { gitBlobId } from './hash.js';
import type { SourceEntry } from './manifest.js';

export interface WalkOptions {
  include: readonly string[];
  exclude: readonly string[];
  /** Directory paths (relative, POSIX) never entered, e.g. the build directory. */
  skipDirs: ReadonlySet<string>;
}

/** Directory names never walked into. */
const ALWAYS_SKIPPED = new Set(['.git', '.hg', '.svn']);

/**
 * Every file and symbolic link below `root` (relative POSIX paths, sorted),
 * links not followed, directories `skipDir` accepts not entered. Synchronous:
 * a build directory's few hundred directory reads would each be a thread-pool
 * round trip otherwise. For plugins listing their build state.
 */
export function listFiles(root: string, skipDir: (path: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!skipDir(path)) visit(path);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        out.push(path);
      }
    }
  };
  visit('');
  return out.sort();
}

/** Lists the files and links below `root` (relative POSIX paths). */
export async function walkTree(root: string, options: WalkOptions): Promise<string[]> {
  const isIncluded = picomatch(options.include.length > 0 ? [...options.include] : ['**'], { dot: true });
  const isExcluded = options.exclude.length > 0 ? picomatch([...options.exclude], { dot: true }) : () => false;
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    const entries = await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
    const dirs: string[] = [];
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (ALWAYS_SKIPPED.has(entry.name) || options.skipDirs.has(path) || isExcluded(path) || isExcluded(`${path}/`)) continue;
        dirs.push(path);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && isIncluded(path) && !isExcluded(path)) {
        out.push(path);
      }
    }
    await Promise.all(dirs.map(visit));
  };
  await visit('');
  return out.sort();
}

/** One buffer for every file hashed: fresh memory per file costs allocations and page faults. */
let readBuffer = Buffer.allocUnsafe(1024 * 1024);

/** The git blob id of the regular file at `abs`, read synchronously through the reused buffer; `undefined` when it changed while read. */
function blobIdOfFile(abs: string): string | undefined {
  const fd = openSync(abs, 'r');
  try {
    const size = fstatSync(fd).size;
    const hash = createHash('sha1').update(`blob ${size}\0`);
    let total = 0;
    for (;;) {
      if (readBuffer.length < Math.min(size + 1, 64 * 1024 * 1024)) readBuffer = Buffer.allocUnsafe(Math.min(size + 1, 64 * 1024 * 1024));
      const n = readSync(fd, readBuffer, 0, readBuffer.length, null);
      if (n === 0) break;
      total += n;
      hash.update(readBuffer.subarray(0, n));
    }
    return total === size ? hash.digest('hex') : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Hashes `paths` (relative to `root`) as git would (blob ids), links by their
 * target. Synchronous, through one reused buffer: a plain copy of a large tree
 * (a Nix unpack, a tarball) is thousands of small local reads, each a thread-
 * pool round trip and a promise when done asynchronously (~2x slower).
 */
export async function hashFiles(root: string, paths: readonly string[]): Promise<Map<string, SourceEntry>> {
  const result = new Map<string, SourceEntry>();
  for (const path of paths) {
    const abs = join(root, path);
    const info = lstatSync(abs, { throwIfNoEntry: false });
    if (!info) continue;
    if (info.isSymbolicLink()) {
      const target = readlinkSync(abs);
      result.set(path, { hash: gitBlobId(target), kind: 'link', target });
    } else if (info.isFile()) {
      // A file written while it was read is read again (its size no longer matches what was hashed).
      const hash = blobIdOfFile(abs) ?? blobIdOfFile(abs) ?? gitBlobId(readFileSync(abs));
      result.set(path, { hash, kind: (info.mode & 0o111) !== 0 ? 'exec' : 'file' });
    }
  }
  return new Map([...result].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
