// Integration: a CMake build dir checkpointed with exact mtimes (cp -a) and
// restored at another absolute path, repaired with this package's building
// blocks, must be up to date for the real ninja and make, and rebuild exactly
// what an edit at the new path touches — never reading the old tree.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCMakeCache, readCMakeCacheInfo } from '../src/cmake-cache.js';
import { readNinjaCommands } from '../src/ninja-commands.js';
import { relocateDepsLog } from '../src/ninja-deps.js';
import { parseNinjaLog, recomputeNinjaLogHashes, serializeNinjaLog } from '../src/ninja-log.js';
import { relocateText, rootMapper } from '@orchestrate/core';
import {
  configureAndBuild,
  copyExample,
  copyPreserving,
  editSource,
  listFiles,
  makeTempDir,
  mtimeNs,
  rewriteKeepingMtime,
} from './helpers/cmake-project.js';

interface Move {
  readonly from: string;
  readonly to: string;
}

/** Rewrites every text file of `buildDir` for `moves`, keeping each file's exact mtime. */
async function relocateTextFiles(buildDir: string, moves: readonly Move[]): Promise<string[]> {
  const rewritten: string[] = [];
  for (const file of listFiles(buildDir)) {
    if (file.endsWith('/.ninja_deps') || file.endsWith('/.ninja_log')) continue;
    const original = readFileSync(file);
    let content: Buffer = original;
    for (const move of moves) content = relocateText(content, move.from, move.to).content;
    if (content !== original) {
      await rewriteKeepingMtime(file, content);
      rewritten.push(file);
    }
  }
  return rewritten;
}

/** Re-encodes `.ninja_deps` path records for `moves`, keeping its mtime. */
async function relocateNinjaDeps(buildDir: string, moves: readonly Move[]): Promise<void> {
  const mappers = moves.map((move) => rootMapper(move.from, move.to));
  const file = join(buildDir, '.ninja_deps');
  const relocated = relocateDepsLog(readFileSync(file), (path) => mappers.reduce((p, map) => map(p), path));
  await rewriteKeepingMtime(file, relocated);
}

/** Recomputes `.ninja_log` hashes from the (already relocated) manifest, keeping its mtime. */
async function rehashNinjaLog(buildDir: string): Promise<readonly string[]> {
  const file = join(buildDir, '.ninja_log');
  const { log, changed, missing } = recomputeNinjaLogHashes(parseNinjaLog(readFileSync(file)), await readNinjaCommands(buildDir));
  expect(missing).toEqual([]);
  await rewriteKeepingMtime(file, Buffer.from(serializeNinjaLog(log), 'utf8'));
  return changed;
}

/** Fails when any file (text or binary) under `dir` still names one of `roots`. */
function expectNoMention(dir: string, roots: readonly string[]): void {
  const offenders = listFiles(dir).filter((file) => {
    const content = readFileSync(file);
    return roots.some((root) => content.includes(root));
  });
  expect(offenders).toEqual([]);
}

function newestMtime(dirs: readonly string[]): bigint {
  return dirs.flatMap(listFiles).reduce((max, file) => {
    const ns = mtimeNs(file);
    return ns > max ? ns : max;
  }, 0n);
}

const compiled = (output: string): string[] =>
  output.split('\n').flatMap((line) => {
    const match = /Building CXX object (\S+)/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });

describe('a Ninja build dir restored at another path', () => {
  let tmp: string;
  const paths = (root: string) => ({ src: join(root, 'proj'), build: join(root, 'proj-build') });
  let old: ReturnType<typeof paths>;
  let moved: ReturnType<typeof paths>;
  let moves: Move[];

  beforeAll(async () => {
    tmp = makeTempDir('relocate-ninja');
    old = paths(join(tmp, 'old'));
    // Deeper and longer, so every path record changes length.
    moved = paths(join(tmp, 'restored', 'somewhere', 'else'));
    copyExample(old.src);
    await configureAndBuild(old.src, old.build, 'Ninja');
    mkdirSync(dirname(moved.src), { recursive: true });
    await copyPreserving(old.src, moved.src);
    await copyPreserving(old.build, moved.build);
    moves = [
      { from: old.src, to: moved.src },
      { from: old.build, to: moved.build },
    ];
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is up to date once text files, .ninja_deps and .ninja_log hashes are relocated', async () => {
    const rewritten = await relocateTextFiles(moved.build, moves);
    expect(rewritten.map((file) => file.slice(moved.build.length + 1))).toEqual(
      expect.arrayContaining(['CMakeCache.txt', 'build.ninja', 'CMakeFiles/rules.ninja']),
    );
    await relocateNinjaDeps(moved.build, moves);

    // Before the log is rehashed, ninja sees every moved command as changed.
    const stale = await execa('ninja', ['-C', moved.build, '-n', '-d', 'explain']);
    expect(stale.stderr).toContain('command line changed');

    const changed = await rehashNinjaLog(moved.build);
    expect(changed.length).toBeGreaterThanOrEqual(4); // every compile and the link line that names a path

    const cache = readCMakeCacheInfo(parseCMakeCache(readFileSync(join(moved.build, 'CMakeCache.txt'))));
    expect(cache.homeDirectory).toBe(moved.src);
    expect(cache.cacheFileDir).toBe(moved.build);
    expectNoMention(moved.build, [old.src, old.build]);

    const dry = await execa('ninja', ['-C', moved.build, '-n', '-d', 'explain']);
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toContain('ninja: no work to do.');
    const real = await execa('ninja', ['-C', moved.build]);
    expect(real.stdout).toContain('ninja: no work to do.');
  });

  it('never reads the old tree, which is still present', async () => {
    // Headers come from .ninja_deps only; sources and the generated header from build.ninja.
    const newest = newestMtime([old.src, old.build, moved.src, moved.build]);
    await editSource(join(old.src, 'include/hello/hello.hpp'), '// edited in the old tree', newest);
    await editSource(join(old.src, 'src/name.cpp'), '// edited in the old tree', newest);
    await editSource(join(old.build, 'generated/hello/version.hpp'), '// edited in the old tree', newest);
    const { stdout } = await execa('ninja', ['-C', moved.build, '-n']);
    expect(stdout).toContain('ninja: no work to do.');
  });

  it('rebuilds exactly the objects including a header edited in the relocated build dir', async () => {
    const header = join(moved.build, 'generated/hello/version.hpp');
    await editSource(header, '// edited at the new path', newestMtime([moved.src, moved.build]));
    const { stdout } = await execa('ninja', ['-C', moved.build]);
    expect(compiled(stdout).sort()).toEqual(['CMakeFiles/hello.dir/src/name.cpp.o', 'CMakeFiles/hello_app.dir/app/main.cpp.o']);
  });

  it('rebuilds exactly the edited unit, then the library and program', async () => {
    const file = join(moved.src, 'src/punctuation.cpp');
    await rewriteKeepingMtime(file, Buffer.from(readFileSync(file, 'utf8').replace('HELLO_STYLE(".",', 'HELLO_STYLE("?",')));
    await editSource(file, '// edited at the new path', newestMtime([moved.src, moved.build]));
    const { stdout } = await execa('ninja', ['-C', moved.build, '-d', 'explain']);
    expect(compiled(stdout)).toEqual(['CMakeFiles/hello.dir/src/punctuation.cpp.o']);
    expect(stdout).toContain('Linking CXX executable hello_app');
    const run = await execa(join(moved.build, 'hello_app'));
    expect(run.stdout.split('\n')[0]).toBe('Hello, world (v1.2.0)?');
    expect((await execa(join(old.build, 'hello_app'))).stdout.split('\n')[0]).toBe('Hello, world (v1.2.0).');
  });
});

describe('a Unix Makefiles build dir restored at another path', () => {
  let tmp: string;
  let oldRoot: string;
  let newRoot: string;

  beforeAll(async () => {
    tmp = makeTempDir('relocate-make');
    oldRoot = join(tmp, 'old', 'proj');
    newRoot = join(tmp, 'restored', 'elsewhere', 'proj');
    copyExample(oldRoot);
    // The build dir inside the source tree, as the example's .gitignore suggests.
    await configureAndBuild(oldRoot, join(oldRoot, 'build'), 'Unix Makefiles', ['-DHELLO_SHOUT=ON']);
    mkdirSync(dirname(newRoot), { recursive: true });
    await copyPreserving(oldRoot, newRoot);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('compiles nothing once its text files are relocated with their mtimes', async () => {
    const buildDir = join(newRoot, 'build');
    const rewritten = await relocateTextFiles(buildDir, [{ from: oldRoot, to: newRoot }]);
    expect(rewritten.length).toBeGreaterThan(10);
    expectNoMention(buildDir, [oldRoot]);
    const { stdout } = await execa('make', ['-C', buildDir]);
    expect(compiled(stdout)).toEqual([]);
    expect(stdout).not.toMatch(/Linking|Configuring|Re-run cmake/);
  });

  it('never reads the old tree, which is still present', async () => {
    const newest = newestMtime([oldRoot, newRoot]);
    await editSource(join(oldRoot, 'include/hello/hello.hpp'), '// edited in the old tree', newest);
    await editSource(join(oldRoot, 'src/name.cpp'), '// edited in the old tree', newest);
    const { stdout } = await execa('make', ['-C', join(newRoot, 'build')]);
    expect(compiled(stdout)).toEqual([]);
  });

  it('rebuilds exactly the objects including an edited header', async () => {
    const buildDir = join(newRoot, 'build');
    await editSource(join(buildDir, 'generated/hello/version.hpp'), '// edited at the new path', newestMtime([newRoot]));
    const { stdout } = await execa('make', ['-C', buildDir]);
    expect(compiled(stdout).sort()).toEqual(['CMakeFiles/hello.dir/src/name.cpp.o', 'CMakeFiles/hello_app.dir/app/main.cpp.o']);
  });

  it('rebuilds exactly the edited unit', async () => {
    const buildDir = join(newRoot, 'build');
    await editSource(join(newRoot, 'src/greeting.cpp'), '// edited at the new path', newestMtime([newRoot]));
    const { stdout } = await execa('make', ['-C', buildDir]);
    expect(compiled(stdout)).toEqual(['CMakeFiles/hello.dir/src/greeting.cpp.o']);
    expect((await execa(join(buildDir, 'hello_app'))).stdout.split('\n')[0]).toBe('HELLO, world (v1.2.0)!!!');
  });
});
