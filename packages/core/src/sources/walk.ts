/**
 * Walking a source tree outside git: every file and symbolic link below the
 * directory, filtered by include/exclude globs, never descending into
 * excluded directories or following links.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
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

/** Hashes the files at `paths` (relative to `root`) into source entries, as git would. */
export async function hashFiles(root: string, paths: readonly string[]): Promise<Map<string, SourceEntry>> {
  const limit = pLimit(32);
  const result = new Map<string, SourceEntry>();
  await Promise.all(
    paths.map((path) =>
      limit(async () => {
        const abs = join(root, path);
        let info;
        try {
          info = await lstat(abs);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw error;
        }
        if (info.isSymbolicLink()) {
          const target = await readlink(abs);
          result.set(path, { hash: gitBlobId(target), kind: 'link', target });
        } else if (info.isFile()) {
          const content = await readFile(abs);
          result.set(path, { hash: gitBlobId(content), kind: (info.mode & 0o111) !== 0 ? 'exec' : 'file' });
        }
      }),
    ),
  );
  return new Map([...result].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
