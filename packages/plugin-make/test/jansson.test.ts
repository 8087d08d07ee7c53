/**
 * A real autotools project whose repository holds no configure script:
 * jansson 2.14 from Debian's source package (autoconf, automake, libtool; it
 * ships a CMakeLists.txt too). As CI scripts for git checkouts do, the user
 * runs `autoreconf -fi` in every fresh clone, which rewrites configure,
 * Makefile.in and aclocal.m4 with the same content and new mtimes, then
 * configure (by hand, in-tree; or through the plugin's `configure` option,
 * out of tree). Each change is built three ways by the shared harness
 * (`realProject`): by orchestrate in a fresh clone at another path than the
 * checkpoint's, from clean at that path (equal bytes), and by make in the
 * warm tree, the checkpointed tree with its times (the same units).
 */
import { appendFile, readFile, unlink, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  leftOutFiles,
  realProject,
  runOrchestrate,
  type RealCheckpoint,
  type RealProject,
  type RealScenario,
  type RealScenarioResult,
} from '@orchestrate/core/testing';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
/** What a user ships: the shared and the static library. */
const OUTPUTS = ['src/.libs/libjansson.so.4.14.0', 'src/.libs/libjansson.a'];
const ALL_UNITS = [
  'dump.c',
  'error.c',
  'hashtable.c',
  'hashtable_seed.c',
  'load.c',
  'memory.c',
  'pack_unpack.c',
  'strbuffer.c',
  'strconv.c',
  'utf.c',
  'value.c',
  'version.c',
].map((file) => `src/${file}`);
/** The user's steps in a fresh clone: the autotools, then configure (`-O2` without `-g`: nothing names the path). */
const AUTORECONF = 'autoreconf -fi >/dev/null 2>&1';
const steps = (cflags: string): string => `${AUTORECONF} && ./configure -q CFLAGS=${cflags}`;
const MAKE = 'make -j2 >/dev/null';
const EDIT_C = (dir: string) => appendFile(join(dir, 'src/dump.c'), '\nint jansson_orchestrate_probe(void) { return 1; }\n');

let jansson: RealProject;

/**
 * The report's changes without autom4te.cache/: autoreconf's cache is no
 * build's input, but the make plugin records what configure-time steps left
 * in the tree as inputs, by content, and autom4te writes its `requests` file
 * from a Perl hash, in a different order on every run.
 */
function changesOf(result: RealScenarioResult): Record<string, string[]> {
  const changes = result.report['changes'] as Record<string, string[]>;
  return Object.fromEntries(
    Object.entries(changes).map(([kind, paths]) => [kind, paths.filter((path) => !path.startsWith('autom4te.cache/'))]),
  );
}

beforeAll(async () => {
  jansson = await realProject({ package: 'jansson', repoRoot: REPO_ROOT, ignore: ['_build/'] });
}, 300_000);

describe('jansson, autoreconf and configure run in-tree by the user before each build', () => {
  // What `orchestrate init` writes for it once configured (see the init test below), with a name.
  const config = { name: 'jansson', plugins: ['@orchestrate/plugin-make'] };
  let checkpoint: RealCheckpoint;

  /** One scenario: orchestrate's units equal the warm tree's, its outputs the clean build's. */
  async function scenario(options: RealScenario & { units?: 'warm' | 'own' }) {
    const result = await checkpoint.scenario(options);
    if (options.units !== 'own') expect(result.units).toEqual(result.warmUnits);
    expect(result.outputs).toEqual(result.cleanOutputs);
    return result;
  }

  beforeAll(async () => {
    checkpoint = await jansson.checkpoint({
      label: 'in-tree',
      config,
      steps: steps('-O2'),
      cleanBuild: MAKE,
      warmBuild: MAKE,
      outputs: OUTPUTS,
    });
    // A full build of a configured automake tree: `make clean` first, never -B (it would run the autotools).
    expect(checkpoint.prepared.run.stderr).toContain('make clean');
    expect(checkpoint.prepared.run.report).toMatchObject({ mode: 'full' });
    expect(checkpoint.prepared.units).toEqual(ALL_UNITS);
  }, 300_000);

  it('compiles nothing when nothing changed, though autoreconf and configure rewrote every generated file', async () => {
    const result = await scenario({ cleanKey: 'unchanged' });
    expect(result.report).toMatchObject({ mode: 'incremental', leftOut: [] });
    expect(changesOf(result)).toMatchObject({ added: [], modified: [], removed: [] });
    expect(result.units).toEqual([]);
  });

  it('compiles exactly an edited unit', async () => {
    const result = await scenario({ change: EDIT_C, cleanKey: 'dump' });
    expect(result.report).toMatchObject({ mode: 'incremental' });
    expect(changesOf(result)).toMatchObject({ modified: ['src/dump.c'] });
    expect(result.units).toEqual(['src/dump.c']);
  });

  it('compiles exactly the includers of an edited header', async () => {
    const result = await scenario({ change: (dir) => appendFile(join(dir, 'src/utf.h'), '\n/* edited */\n') });
    expect(result.report).toMatchObject({ mode: 'incremental' });
    expect(changesOf(result)).toMatchObject({ modified: ['src/utf.h'] });
    expect(result.units).toEqual(['src/dump.c', 'src/load.c', 'src/pack_unpack.c', 'src/utf.c', 'src/value.c']);
    expect(result.report['warnings'] ?? []).toEqual([]);
  });

  it('compiles what includes an added header', async () => {
    const result = await scenario({
      change: async (dir) => {
        await writeFile(join(dir, 'src/extra.h'), '#define JANSSON_ORCHESTRATE_EXTRA 1\n');
        const load = join(dir, 'src/load.c');
        await writeFile(load, `#include "extra.h"\n${await readFile(load, 'utf8')}`);
      },
    });
    expect(result.report).toMatchObject({ mode: 'incremental' });
    expect(changesOf(result)).toMatchObject({ added: ['src/extra.h'], modified: ['src/load.c'] });
    expect(result.units).toEqual(['src/load.c']);
  });

  it('compiles nothing for a deleted file no unit reads', async () => {
    const result = await scenario({ change: (dir) => unlink(join(dir, 'README.rst')), cleanKey: 'unchanged' });
    expect(changesOf(result)).toMatchObject({ removed: ['README.rst'] });
    expect(result.units).toEqual([]);
    // Every sub-make's database shows nothing was built from it: nothing is left out.
    expect(result.report).toMatchObject({ mode: 'incremental', leftOut: [] });
  });

  it('compiles an edited unit whose mtime is older than the checkpoint (content decides), as the warm tree does the edit', async () => {
    const result = await scenario({
      change: async (dir) => {
        await EDIT_C(dir);
        await utimes(join(dir, 'src/dump.c'), new Date('2001-01-01'), new Date('2001-01-01'));
      },
      // make in a warm tree misses an edit dated before its objects: it gets the edit with a current time.
      warmChange: EDIT_C,
      cleanKey: 'dump',
    });
    expect(result.units).toEqual(['src/dump.c']);
  });

  it('builds in full, naming the Makefiles, when configure ran with other flags (the warm tree keeps a stale object)', async () => {
    const result = await scenario({ steps: steps('-O1'), warmSteps: './configure -q CFLAGS=-O1', units: 'own' });
    expect(result.report).toMatchObject({ mode: 'full' });
    expect(result.report['reason']).toMatch(/make does not track changes to its makefiles, and 'Makefile'.* changed/);
    expect(result.units).toEqual(ALL_UNITS);
    expect(result.cleanUnits).toEqual(ALL_UNITS);
    // automake's objects do not depend on the Makefile; configure rewrote src/jansson_config.h, so make compiles
    // what includes jansson.h again, but utf.c keeps its -O2 object: the warm tree is a stale build.
    expect(ALL_UNITS.filter((unit) => !result.warmUnits.includes(unit))).toEqual(['src/utf.c']);
  });
});

describe('jansson, out of tree (VPATH), configured by the plugin after the user ran autoreconf', () => {
  let checkpoint: RealCheckpoint;

  beforeAll(async () => {
    checkpoint = await jansson.checkpoint({
      label: 'vpath',
      config: { name: 'jansson-vpath', plugins: [['@orchestrate/plugin-make', { objDir: '_build', configure: ['CFLAGS=-O2'], jobs: 2 }]] },
      steps: AUTORECONF,
      // configure by its relative path, as the plugin runs it (`assert`'s `__FILE__` then names no directory).
      cleanBuild: `mkdir _build && cd _build && ../configure -q CFLAGS=-O2 && ${MAKE}`,
      warmBuild: `${MAKE} -C _build`,
      outputs: OUTPUTS.map((path) => `_build/${path}`),
    });
    expect(checkpoint.prepared.run.stderr).toContain('./configure CFLAGS=-O2');
    expect(checkpoint.prepared.units).toEqual(ALL_UNITS);
  }, 300_000);

  it('compiles an edited unit (and today more), equal to a clean build at that path', async () => {
    const result = await checkpoint.scenario({ change: EDIT_C });
    expect(result.report).toMatchObject({ mode: 'incremental' });
    expect(changesOf(result)).toMatchObject({ modified: ['src/dump.c'] });
    expect(result.outputs).toEqual(result.cleanOutputs);
    expect(result.warmUnits).toEqual(['src/dump.c']);
    // configure ran by a relative path: no object names the old directory, nothing is left out.
    expect(leftOutFiles(result.run)).toEqual([]);
    const needed = result.warmUnits;
    for (const unit of needed) expect(result.units).toContain(unit);
    // TODO(#13): the autotools' outputs in the source directory (configure, Makefile.in, aclocal.m4, which
    // autoreconf rewrote with the same content) are no recorded inputs of an object directory's build, so they
    // keep their new times: make runs `config.status --recheck`, which rewrites src/jansson_config.h, and every
    // includer of jansson.h (all but utf.c) compiles again. Once they are inputs, the units are `needed`.
    expect(result.run.stderr).toContain('config.status --recheck');
    expect(result.units).toEqual([...new Set([...needed, ...ALL_UNITS.filter((unit) => unit !== 'src/utf.c')])].sort());
  });
});

describe('orchestrate init in a clone of jansson', () => {
  it('picks CMake before configure ran, saying how to pick autotools, and autotools once the user configured', async () => {
    const dir = join(jansson.root, 'init', 'jansson');
    await jansson.clone(dir, { steps: AUTORECONF });
    const store = join(jansson.root, 'init', 'store');
    const before = await runOrchestrate(['init'], { cwd: dir, store });
    expect(before.exitCode, before.stderr).toBe(0);
    expect(before.report).toMatchObject({ buildSystem: 'cmake', note: expect.stringContaining('run configure, then init --force') });

    await jansson.sh(dir, './configure -q CFLAGS=-O2');
    const run = await runOrchestrate(['init', '--force'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toEqual({
      schemaVersion: 1,
      config: join(dir, 'orchestrate.config.json'),
      buildSystem: 'autotools',
      note: expect.stringContaining('configured with autotools here (config.status), so the make plugin over the CMakeLists.txt beside it'),
    });
    expect(JSON.parse(await readFile(join(dir, 'orchestrate.config.json'), 'utf8'))).toEqual({ plugins: ['@orchestrate/plugin-make'] });
  });
});
