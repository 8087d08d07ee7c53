/**
 * Walking a source tree outside git: every file and symbolic link below the
 * directory, filtered by include/exclude globs, never descending into
 * excluded directories or following links.
 */
import crypto, { createHash } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  type Dirent,
} from 'node:fs';
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

/**
 * Lists the files and links below `root` (relative POSIX paths, sorted).
 * Synchronous, as {@link listFiles}: a source tree's thousands of directory
 * reads would each be a thread-pool round trip and a promise otherwise.
 */
export async function walkTree(root: string, options: WalkOptions): Promise<string[]> {
  // No include globs: everything is included, without a match per file.
  const isIncluded = options.include.length > 0 ? picomatch([...options.include], { dot: true }) : undefined;
  const isExcluded = options.exclude.length > 0 ? picomatch([...options.exclude], { dot: true }) : undefined;
  const out: string[] = [];
  const visit = (rel: string): void => {
    const entries = readdirSync(rel === '' ? root : `${root}/${rel}`, { withFileTypes: true });
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (
          ALWAYS_SKIPPED.has(entry.name) ||
          options.skipDirs.has(path) ||
          isExcluded?.(path) === true ||
          isExcluded?.(`${path}/`) === true
        ) {
          continue;
        }
        visit(path);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && isIncluded?.(path) !== false && isExcluded?.(path) !== true) {
        out.push(path);
      }
    }
  };
  visit('');
  return Promise.resolve(out.sort());
}

/** One buffer for every file hashed: fresh memory per file costs allocations and page faults. */
let readBuffer = Buffer.allocUnsafe(1024 * 1024);
/** Files up to this size are hashed in one piece, from the buffer; larger ones in a stream of reads. */
const WHOLE_FILE_BYTES = 64 * 1024 * 1024;
/** Never a link followed, never a FIFO waited on: what it is comes from fstat, after the open. */
const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;
/** node >= 20.12 and 21.7: a one-shot digest, without a Hash object (a stream) per file. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'hex') => string }).hash;

/** What one file of {@link hashFiles} is, read through the open descriptor. */
function blobIdOfOpenFile(fd: number, size: number): string | undefined {
  const header = `blob ${size}\0`;
  if (size < WHOLE_FILE_BYTES && oneShot) {
    // The header, then the content right after it, then one byte more than the size, to see the end.
    const want = header.length + size + 1;
    if (readBuffer.length < want) readBuffer = Buffer.allocUnsafe(Math.max(want, readBuffer.length * 2));
    const start = readBuffer.write(header, 0, 'latin1');
    let total = 0;
    for (;;) {
      const n = readSync(fd, readBuffer, start + total, size + 1 - total, null);
      if (n === 0) break;
      total += n;
      if (total > size) return undefined; // it grew while read
    }
    return total === size ? oneShot('sha1', readBuffer.subarray(0, start + size), 'hex') : undefined;
  }
  const hash = createHash('sha1').update(header);
  let total = 0;
  for (;;) {
    const n = readSync(fd, readBuffer, 0, readBuffer.length, null);
    if (n === 0) break;
    total += n;
    hash.update(readBuffer.subarray(0, n));
  }
  return total === size ? hash.digest('hex') : undefined;
}

/** The source entry of the file or link at `abs`; `undefined` when it is neither (gone, a directory, a FIFO). */
function sourceEntryOf(abs: string): SourceEntry | undefined {
  let fd: number;
  try {
    fd = openSync(abs, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code !== 'ELOOP') throw error;
    // O_NOFOLLOW met a link: hashed by its target, as git stores it.
    const target = readlinkSync(abs);
    return { hash: gitBlobId(target), kind: 'link', target };
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return undefined;
    // A file written while it was read is read again (its size no longer matches what was hashed).
    const hash = blobIdOfOpenFile(fd, info.size) ?? blobIdOfOpenFile(fd, fstatSync(fd).size) ?? gitBlobId(readFileSync(abs));
    return { hash, kind: (info.mode & 0o111) !== 0 ? 'exec' : 'file' };
  } finally {
    closeSync(fd);
  }
}

/**
 * Hashes `paths` (relative to `root`) as git would (blob ids), links by their
 * target. Synchronous, through one reused buffer: a plain copy of a large tree
 * (a Nix unpack, a tarball) is thousands of small local reads, each a thread-
 * pool round trip and a promise when done asynchronously (~2x slower). Per
 * file: open (no link followed), fstat, one read, close; one digest.
 */
export async function hashFiles(root: string, paths: readonly string[]): Promise<Map<string, SourceEntry>> {
  const result = new Map<string, SourceEntry>();
  for (const path of paths) {
    const entry = sourceEntryOf(join(root, path));
    if (entry) result.set(path, entry);
  }
  return Promise.resolve(sortedByPath(result));
}

/** `map` with its keys in code-unit order: itself when they are already (a listing in git's or a walk's order). */
export function sortedByPath<V>(map: Map<string, V>): Map<string, V> {
  let previous: string | undefined;
  for (const key of map.keys()) {
    if (previous !== undefined && previous > key) return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    previous = key;
  }
  return map;
}
