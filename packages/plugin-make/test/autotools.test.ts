/**
 * A real autotools project as users have it: libogg (autoconf, automake and
 * libtool) from Debian's source package, in a git repository that ignores
 * what configure writes. Every build runs in a fresh clone at another path,
 * configured there first, as a CI script does: configure rewrites config.h and
 * every Makefile (same content, new mtimes, the tree's absolute path inside),
 * and the restore must still recompile only what the change requires. Each
 * change is built three ways by the shared harness (`realProject`): by
 * orchestrate in that clone, from clean at the same path (equal bytes), and by
 * make in the warm tree, the checkpointed tree with its times (the same units).
 *
 * libogg's Debian tarball ships its generated files (aclocal.m4, configure,
 * Makefile.in): a clone gives every file "now", so they are touched into order
 * first, as CI scripts for such repositories do, and make never wants to run
 * the autotools.
 */
import { appendFile, readFile, unlink, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { realProject, type RealCheckpoint, type RealProject, type RealScenario } from '@orchestrate/core/testing';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const IGNORED = [
  'Makefile',
  'config.h',
  'config.status',
  'config.log',
  'libtool',
  'stamp-h1',
  '*.o',
  '*.lo',
  '*.la',
  '.libs/',
  '.deps/',
  '*.pc',
  'libogg.spec',
  'include/ogg/config_types.h',
  '_build/',
];
/** The outputs a user ships: the shared and the static library. */
const OUTPUTS = ['src/.libs/libogg.so.0.8.5', 'src/.libs/libogg.a'];
const ALL_UNITS = ['src/bitwise.c', 'src/framing.c'];
/** The generated files touched into order, as the clone gave them all one time. */
const TOUCH = 'touch aclocal.m4 && sleep 0.01 && touch configure config.h.in && sleep 0.01 && find . -name Makefile.in -exec touch {} +';
const steps = (cflags: string): string => `${TOUCH} && ./configure -q CFLAGS=${cflags}`;
const MAKE = 'make -j2 >/dev/null';
const EDIT_C = (dir: string) => appendFile(join(dir, 'src/framing.c'), '\n/* edited */\n');

let libogg: RealProject;

beforeAll(async () => {
  libogg = await realProject({ package: 'libogg', repoRoot: REPO_ROOT, ignore: IGNORED });
}, 300_000);

describe('libogg, configured in-tree by the user before each build', () => {
  const config = { name: 'libogg', plugins: ['@orchestrate/plugin-make'] };
  let checkpoint: RealCheckpoint;

  /** One scenario: orchestrate's units equal the warm tree's (unless the test checks them itself), its outputs the clean build's. */
  async function scenario(options: RealScenario & { units?: 'warm' | 'own' }) {
    const result = await checkpoint.scenario(options);
    if (options.units !== 'own') expect(result.units).toEqual(result.warmUnits);
    expect(result.outputs).toEqual(result.cleanOutputs);
    return result;
  }

  beforeAll(async () => {
    checkpoint = await libogg.checkpoint({
      label: 'in-tree',
      config,
      steps: steps('-O2'),
      cleanBuild: MAKE,
      warmBuild: MAKE,
      outputs: OUTPUTS,
    });
    // The full build of a configured automake tree: no -B (it would rerun the autotools), a clean instead.
    expect(checkpoint.prepared.run.stderr).toContain('make clean');
    expect(checkpoint.prepared.run.report).toMatchObject({ mode: 'full' });
    expect(checkpoint.prepared.units).toEqual(ALL_UNITS);
  }, 300_000);

  it('recompiles nothing when nothing changed, though configure rewrote config.h and every Makefile', async () => {
    const result = await scenario({ cleanKey: 'unchanged' });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { modified: [] } });
    expect(result.units).toEqual([]);
  });

  it('recompiles exactly an edited unit', async () => {
    const result = await scenario({
      change: (dir) => appendFile(join(dir, 'src/bitwise.c'), '\nint ogg_orchestrate_probe(void) { return 1; }\n'),
    });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/bitwise.c'] } });
    expect(result.units).toEqual(['src/bitwise.c']);
  });

  it('recompiles exactly the includers of an edited header', async () => {
    const result = await scenario({ change: (dir) => appendFile(join(dir, 'include/ogg/ogg.h'), '\n/* edited */\n') });
    expect(result.report).toMatchObject({ mode: 'incremental' });
    expect(result.units).toEqual(ALL_UNITS);
  });

  it('compiles what includes an added header, and nothing for a deleted file no unit reads', async () => {
    const result = await scenario({
      change: async (dir) => {
        await writeFile(join(dir, 'src/extra.h'), '#define OGG_ORCHESTRATE_EXTRA 1\n');
        const framing = join(dir, 'src/framing.c');
        await writeFile(framing, `#include "extra.h"\n${await readFile(framing, 'utf8')}`);
        await unlink(join(dir, 'AUTHORS'));
      },
    });
    expect(result.report).toMatchObject({ changes: { added: ['src/extra.h'], removed: ['AUTHORS'] } });
    expect(result.units).toEqual(['src/framing.c']);
    // Every sub-make's database shows nothing was built from AUTHORS: nothing is left out.
    expect(result.report).toMatchObject({ mode: 'incremental', leftOut: [] });
  });

  it('recompiles an edited unit whose mtime is older than the checkpoint (content decides), as the warm tree does the edit', async () => {
    const result = await scenario({
      change: async (dir) => {
        await EDIT_C(dir);
        await utimes(join(dir, 'src/framing.c'), new Date('2001-01-01'), new Date('2001-01-01'));
      },
      // make in a warm tree misses an edit dated before its objects: it gets the edit with a current time.
      warmChange: EDIT_C,
    });
    expect(result.units).toEqual(['src/framing.c']);
  });

  it('recompiles exactly an edited unit in a plain copy without git, every mtime 1, configured by the user', async () => {
    // Without git every file is listed, configure's Makefiles and config.h too: the checkpoint knows them as
    // inputs, compared without the roots, so they do not count as added sources.
    const result = await scenario({ change: EDIT_C, plainCopy: true });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { added: [], modified: ['src/framing.c'], removed: [] } });
    expect(result.units).toEqual(['src/framing.c']);
  });

  it('builds in full, naming the Makefiles, when configure ran with other flags', async () => {
    const result = await scenario({ steps: steps('-O1'), warmSteps: './configure -q CFLAGS=-O1', units: 'own' });
    expect(result.report).toMatchObject({ mode: 'full' });
    expect(result.report['reason']).toMatch(/make does not track changes to its makefiles, and 'Makefile'.* changed/);
    expect(result.units).toEqual(ALL_UNITS);
    expect(result.cleanUnits).toEqual(ALL_UNITS);
    // In a warm tree, configure rewrote include/ogg/config_types.h, which both units include: make compiles both.
    expect(result.warmUnits).toEqual(ALL_UNITS);
  });
});

describe("libogg, configured by the user with configure's default flags (-g: the objects name the tree)", () => {
  it('at another path, makes again what names the old path, with the libtool targets written with it, equal to a clean build', async () => {
    const checkpoint = await libogg.checkpoint({
      label: 'debug-info',
      config: { name: 'libogg-g', plugins: ['@orchestrate/plugin-make'] },
      steps: `${TOUCH} && ./configure -q`,
      cleanBuild: MAKE,
      warmBuild: MAKE,
      outputs: OUTPUTS,
    });
    const result = await checkpoint.scenario({ change: EDIT_C });
    expect(result.outputs).toEqual(result.cleanOutputs);
    // The objects carry the old directory in their debug info: left out. Restoring the .lo and .la written with
    // them would make make take them as up to date, and the link fail on the missing objects.
    expect(result.report['leftOut']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: expect.stringMatching(/^names the old path/) }),
        expect.objectContaining({ reason: 'libtool writes it with files that are left out' }),
      ]),
    );
    expect(result.units).toEqual(ALL_UNITS);
    expect(result.warmUnits).toEqual(['src/framing.c']);
  });
});

describe('libogg, out of tree (VPATH), configured by the plugin', () => {
  it('recompiles exactly an edited unit in a fresh clone at another path, equal to a clean build there', async () => {
    const checkpoint = await libogg.checkpoint({
      label: 'vpath',
      config: { name: 'libogg-vpath', plugins: [['@orchestrate/plugin-make', { objDir: '_build', configure: ['CFLAGS=-O2'] }]] },
      steps: TOUCH,
      cleanBuild: `mkdir _build && cd _build && ../configure -q CFLAGS=-O2 && ${MAKE}`,
      warmBuild: `${MAKE} -C _build`,
      outputs: OUTPUTS.map((path) => `_build/${path}`),
    });
    expect(checkpoint.prepared.run.stderr).toContain('./configure CFLAGS=-O2');
    expect(checkpoint.prepared.units).toEqual(ALL_UNITS);

    const result = await checkpoint.scenario({ change: EDIT_C });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/framing.c'] } });
    expect(result.units).toEqual(['src/framing.c']);
    expect(result.units).toEqual(result.warmUnits);
    expect(result.outputs).toEqual(result.cleanOutputs);
  });
});
