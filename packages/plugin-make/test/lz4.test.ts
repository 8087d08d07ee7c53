/**
 * A real recursive-make project as users have it: lz4 1.9.4 from Debian's
 * source package (its top Makefile runs `$(MAKE) -C lib` and `$(MAKE) -C
 * programs`; `lib/` compiles every source in one command whenever one
 * changed; no header dependencies anywhere), built with its own `-O2 -g` and
 * the make plugin's `relocatable` option. Each change is built three ways (the
 * shared harness, `realProject`): by orchestrate in a fresh clone at another
 * path than the checkpoint's, from clean at that path, and in the warm tree
 * (the checkpointed tree, times kept) by make itself. orchestrate must compile
 * exactly what the warm tree compiles and give the clean build's bytes, and
 * where the warm tree is stale (a header its Makefiles do not list, flags make
 * does not record) say so or build in full.
 */
import { appendFile, unlink, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { realProject, type RealCheckpoint, type RealProject, type RealScenario } from '@orchestrate/core/testing';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
/** What a user ships: the static and shared library and the program. */
const OUTPUTS = ['lib/liblz4.a', 'lib/liblz4.so.1.9.4', 'programs/lz4'];
/** Every unit of `make default`: lib's sources (compiled by lib's Makefile, static and shared) and the program's. */
const ALL_UNITS = [
  'lib/lz4.c',
  'lib/lz4file.c',
  'lib/lz4frame.c',
  'lib/lz4hc.c',
  'lib/xxhash.c',
  'programs/bench.c',
  'programs/datagen.c',
  'programs/lz4cli.c',
  'programs/lz4io.c',
];
const PLUGIN = '@orchestrate/plugin-make';
/**
 * `CFLAGS=-g` on make's command line (lz4's own `-O2 -g` compiles three times slower; the debug info naming
 * the directory is what matters here). The full builds run in fresh clones, where the plugin runs a plain
 * `make`, as a clean build does: `make -B` would differ, programs/ compiling lib's objects again with its own
 * flags (see the flags test).
 */
const OPTIONS = { targets: ['default'], variables: { CFLAGS: '-g' }, jobs: 2, relocatable: true };
const CONFIG = { name: 'lz4', plugins: [[PLUGIN, OPTIONS]] };
/** make as the user runs it, with the prefix map the plugin's `relocatable` adds (`CPPFLAGS` from the environment). */
const make =
  (cflags = '-g') =>
  (dir: string): string =>
    `CPPFLAGS='-ffile-prefix-map=${dir}=.' make -j2 default CFLAGS='${cflags}' >/dev/null`;
const EDIT_C = (dir: string) => appendFile(join(dir, 'programs/lz4io.c'), '\nint lz4_orchestrate_probe(void) { return 1; }\n');

let lz4: RealProject;
let checkpoint: RealCheckpoint;

beforeAll(async () => {
  lz4 = await realProject({ package: 'lz4', repoRoot: REPO_ROOT });
  checkpoint = await lz4.checkpoint({ label: 'lz4', config: CONFIG, cleanBuild: make(), warmBuild: make(), outputs: OUTPUTS });
  expect(checkpoint.prepared.run.report).toMatchObject({ mode: 'full' });
  expect(checkpoint.prepared.units).toEqual(ALL_UNITS);
}, 300_000);

describe('lz4 (recursive make), at another path than its checkpoint', () => {
  it('compiles nothing when nothing changed, equal to a clean build there', async () => {
    const result = await lz4Scenario({ cleanKey: 'unchanged' });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { added: [], modified: [], removed: [] }, leftOut: [] });
    expect(result.units).toEqual([]);
  });

  it('compiles exactly the edited unit of programs/', async () => {
    const result = await lz4Scenario({ change: EDIT_C, cleanKey: 'lz4io' });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { modified: ['programs/lz4io.c'] } });
    expect(result.units).toEqual(['programs/lz4io.c']);
  });

  it("recompiles every source of lib/ for one edited source, as lib's Makefile does", async () => {
    const result = await lz4Scenario({ change: (dir) => appendFile(join(dir, 'lib/lz4frame.c'), '\n/* edited */\n') });
    expect(result.units).toEqual(ALL_UNITS.filter((unit) => unit.startsWith('lib/')));
  });

  it('compiles nothing for an edited header, as the warm tree, and warns naming the header', async () => {
    // lz4's Makefiles list no headers: make leaves every includer as it was, in the warm tree as here.
    const result = await lz4Scenario({ change: (dir) => appendFile(join(dir, 'lib/lz4.h'), '\n/* edited */\n'), compare: 'warm' });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { modified: ['lib/lz4.h'] } });
    expect(result.units).toEqual([]);
    const warnings = result.report['warnings'] as string[];
    expect(warnings).toContainEqual(expect.stringContaining("'lib/lz4.h' changed and 'lib/lz4.o' reads it"));
    expect(warnings).toContainEqual(expect.stringContaining("'lib/lz4.h' changed and 'programs/lz4io.o' reads it"));
  });

  it('compiles an added source that the wildcard of programs/ picks up, and links it in', async () => {
    const result = await lz4Scenario({
      change: (dir) => writeFile(join(dir, 'programs/extra.c'), 'int lz4_orchestrate_extra(void) { return 2; }\n'),
    });
    expect(result.report).toMatchObject({ changes: { added: ['programs/extra.c'] } });
    expect(result.units).toEqual(['programs/extra.c']);
  });

  it('compiles nothing for a deleted README: no sub-make built anything from it', async () => {
    const result = await lz4Scenario({ change: (dir) => unlink(join(dir, 'README.md')), cleanKey: 'unchanged', compare: 'outputs' });
    expect(result.report).toMatchObject({ mode: 'incremental', leftOut: [], changes: { removed: ['README.md'] } });
    expect(result.warmUnits).toEqual([]);
    expect(result.units).toEqual([]);
  });

  it('compiles an edited unit whose mtime is older than the checkpoint (content decides), as the warm tree does the edit', async () => {
    const result = await lz4Scenario({
      change: async (dir) => {
        await EDIT_C(dir);
        await utimes(join(dir, 'programs/lz4io.c'), new Date('2001-01-01'), new Date('2001-01-01'));
      },
      // make in the warm tree would miss an edit dated before its objects: it gets the edit with a current time.
      warmChange: EDIT_C,
      cleanKey: 'lz4io',
    });
    expect(result.units).toEqual(['programs/lz4io.c']);
  });

  it("builds in full, naming the variables, when CFLAGS on make's command line changed (the warm tree compiles nothing)", async () => {
    const result = await lz4Scenario({
      config: { ...CONFIG, plugins: [[PLUGIN, { ...OPTIONS, variables: { CFLAGS: '-O1 -g' } }]] },
      cleanBuild: make('-O1 -g'),
      warmBuild: make('-O1 -g'),
      compare: 'clean',
    });
    expect(result.report).toMatchObject({ mode: 'full' });
    expect(result.report['reason']).toContain('make.variables');
    expect(result.units).toEqual(ALL_UNITS);
    expect(result.cleanUnits).toEqual(ALL_UNITS);
    // make records no flags: a warm tree keeps every object built with -g alone, which is why the checkpoint is refused.
    expect(result.warmUnits).toEqual([]);
  });
});

/**
 * One scenario; by default orchestrate's units must equal the warm tree's and
 * its outputs the clean build's. `compare: 'warm'`: the warm tree is stale
 * (a missing prerequisite), and orchestrate's outputs must equal it; `'clean'`:
 * the warm tree is wrong (flags), and orchestrate's units must be the clean
 * build's; `'outputs'`: the test asserts the units itself.
 */
async function lz4Scenario(scenario: RealScenario & { compare?: 'warm' | 'clean' | 'outputs' }) {
  const result = await checkpoint.scenario(scenario);
  if (scenario.compare === 'clean') expect(result.units).toEqual(result.cleanUnits);
  else if (scenario.compare !== 'outputs') expect(result.units).toEqual(result.warmUnits);
  expect(result.outputs).toEqual(scenario.compare === 'warm' ? result.warmOutputs : result.cleanOutputs);
  return result;
}
