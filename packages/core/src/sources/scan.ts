/**
 * Builds the source manifest of the working tree: from git in a work tree,
 * from a walk elsewhere.
 */
import { relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { runProcess } from '../process.js';
import { tryGitSources, type GitListing } from './git.js';
import type { SourceEntry } from './manifest.js';
import { hashFiles, walkTree } from './walk.js';

export interface ScanOptions {
  sourceDir: string;
  buildDir: string;
  include: readonly string[];
  exclude: readonly string[];
  /** A listing of the source directory started earlier; used when it lists the same directory. */
  gitListing?: GitListing | undefined;
}

export interface ScanResult {
  readonly sources: Map<string, SourceEntry>;
  readonly method: 'git' | 'walk';
  /** Sources no version control tracks: git's untracked files, or every file of a walk. */
  readonly untracked: ReadonlySet<string>;
}

/** The build directory relative to the source directory, when it lies strictly inside it. */
export function nestedBuildDir(sourceDir: string, buildDir: string): string | undefined {
  const rel = relative(sourceDir, buildDir);
  if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return undefined;
  return rel.split(sep).join('/');
}

/** True when git ignores `dir` itself (`git check-ignore` exits 0). */
async function isIgnoredByGit(dir: string): Promise<boolean> {
  return (await runProcess('git', ['check-ignore', '-q', '.'], { cwd: dir })).exitCode === 0;
}

/** Scans the sources; see {@link ScanOptions}. */
export async function scanSources(options: ScanOptions): Promise<ScanResult> {
  const buildRel = nestedBuildDir(options.sourceDir, options.buildDir);
  const isExcluded = options.exclude.length > 0 ? picomatch([...options.exclude], { dot: true }) : () => false;
  const skip = (path: string): boolean =>
    (buildRel !== undefined && (path === buildRel || path.startsWith(`${buildRel}/`))) || isExcluded(path);
  const listed = await tryGitSources(options.sourceDir, skip, options.gitListing);
  // A directory git ignores (a copy under an ignored path of another
  // repository) lists nothing in git, so changes would go unseen: walk it.
  if (listed && (listed.sources.size > 0 || !(await isIgnoredByGit(options.sourceDir)))) {
    return { sources: listed.sources, method: 'git', untracked: listed.untracked };
  }
  const paths = await walkTree(options.sourceDir, {
    include: options.include,
    exclude: options.exclude,
    skipDirs: new Set(buildRel === undefined ? [] : [buildRel]),
  });
  const sources = await hashFiles(
    options.sourceDir,
    paths.filter((p) => !skip(p)),
  );
  return { sources, method: 'walk', untracked: new Set(sources.keys()) };
}
