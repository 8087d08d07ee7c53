/**
 * A real CMake project as users have it: json-c 0.16 from Debian's source
 * package, built with its own default build type (its CMakeLists sets
 * `debug`: every object's debug info names the absolute directories), Ninja,
 * tests off, the two libraries a user ships. Each change is built three ways
 * by the shared harness (`realProject`): by orchestrate in a fresh clone at
 * another path than the checkpoint's, from clean at that path with the same
 * flags (equal bytes), and by CMake in the warm tree, the checkpointed tree
 * with its times (the same units). With `relocatable: true` the checkpoint
 * restores in full at the other path; without it, the objects that name the
 * old path are left out, and the report says so and names the option.
 */
import { appendFile, readFile, unlink, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { leftOutNamingOldPath, realProject, type RealCheckpoint, type RealProject, type RealScenario } from '@orchestrate/core/testing';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const OUTPUTS = ['build/libjson-c.so.5.2.0', 'build/libjson-c.a'];
const TARGETS = ['json-c', 'json-c-static'];
const CACHE_ARGS = ['-DBUILD_TESTING=OFF'];
const PLUGIN = '@orchestrate/plugin-cmake';
/** The library's sources: each compiled twice (the shared and the static target). */
const ALL_UNITS = [
  'arraylist.c',
  'debug.c',
  'json_c_version.c',
  'json_object.c',
  'json_object_iterator.c',
  'json_pointer.c',
  'json_tokener.c',
  'json_util.c',
  'json_visit.c',
  'linkhash.c',
  'printbuf.c',
  'random_seed.c',
  'strerror_override.c',
];
const EDIT_C = (dir: string) => appendFile(join(dir, 'json_util.c'), '\nint json_c_orchestrate_probe(void) { return 1; }\n');

/** The plugin's `relocatable` flags for a tree at `dir` (the longer root last). */
const prefixMaps = (dir: string): string => `-ffile-prefix-map=${dir}=. -ffile-prefix-map=${dir}/build=.`;
/** configure as the plugin does, with `cflags` in `CMAKE_C_FLAGS` and, when `relocatable`, the prefix maps. */
function configure(dir: string, options: { relocatable: boolean; cflags?: string }): string {
  const maps = options.relocatable ? prefixMaps(dir) : '';
  const flags = (base: string) => `'${[base, maps].join(' ').trim()}'`;
  return [
    `cmake -S . -B build -G Ninja ${CACHE_ARGS.join(' ')}`,
    ...(options.relocatable || options.cflags !== undefined ? [`-DCMAKE_C_FLAGS=${flags(options.cflags ?? '')}`] : []),
    ...(options.relocatable ? [`-DCMAKE_CXX_FLAGS=${flags('')}`] : []),
    '>/dev/null',
  ].join(' ');
}
const BUILD = `cmake --build build -j2 --target ${TARGETS.join(' ')} >/dev/null`;

let jsonC: RealProject;

beforeAll(async () => {
  // CMake's configure compiles its checks under build/CMakeFiles: no units of the project.
  jsonC = await realProject({ package: 'json-c', repoRoot: REPO_ROOT, isUnit: (path) => !path.startsWith('build/') });
}, 300_000);

describe("json-c (CMake, its default Debug build) with 'relocatable: true', at another path than its checkpoint", () => {
  const options = { jobs: 2, targets: TARGETS, cacheArgs: CACHE_ARGS, relocatable: true };
  const config = { name: 'json-c', plugins: [[PLUGIN, options]] };
  let checkpoint: RealCheckpoint;

  /** One scenario: the checkpoint restored in full, orchestrate's units the warm tree's, its outputs the clean build's. */
  async function scenario(options: RealScenario) {
    const result = await checkpoint.scenario(options);
    expect(result.units).toEqual(result.warmUnits);
    expect(result.outputs).toEqual(result.cleanOutputs);
    return result;
  }

  beforeAll(async () => {
    checkpoint = await jsonC.checkpoint({
      label: 'relocatable',
      config,
      cleanBuild: (dir) => `${configure(dir, { relocatable: true })} && ${BUILD}`,
      warmBuild: BUILD,
      outputs: OUTPUTS,
    });
    expect(checkpoint.prepared.run.report).toMatchObject({ mode: 'full' });
    expect(checkpoint.prepared.units).toEqual(ALL_UNITS);
  }, 300_000);

  it('restores in full and compiles nothing when nothing changed', async () => {
    const result = await scenario({ cleanKey: 'unchanged' });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { added: [], modified: [], removed: [] }, leftOut: [] });
    expect(result.units).toEqual([]);
  });

  it('compiles exactly an edited unit', async () => {
    const result = await scenario({ change: EDIT_C, cleanKey: 'json_util' });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { modified: ['json_util.c'] }, leftOut: [] });
    expect(result.units).toEqual(['json_util.c']);
  });

  it('compiles exactly the includers of an edited header', async () => {
    const result = await scenario({ change: (dir) => appendFile(join(dir, 'printbuf.h'), '\n/* edited */\n') });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { modified: ['printbuf.h'] }, leftOut: [] });
    expect(result.units.length).toBeGreaterThan(0);
    expect(result.units).toContain('printbuf.c');
    expect(result.units).not.toContain('arraylist.c');
  });

  it('compiles what includes an added header', async () => {
    const result = await scenario({
      change: async (dir) => {
        await writeFile(join(dir, 'extra.h'), '#define JSON_C_ORCHESTRATE_EXTRA 1\n');
        const file = join(dir, 'linkhash.c');
        await writeFile(file, `#include "extra.h"\n${await readFile(file, 'utf8')}`);
      },
    });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { added: ['extra.h'], modified: ['linkhash.c'] }, leftOut: [] });
    expect(result.units).toEqual(['linkhash.c']);
  });

  it('compiles nothing for a deleted file no unit reads', async () => {
    const result = await scenario({ change: (dir) => unlink(join(dir, 'README.md')), cleanKey: 'unchanged' });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { removed: ['README.md'] }, leftOut: [] });
    expect(result.units).toEqual([]);
  });

  it('compiles an edited unit whose mtime is older than the checkpoint (content decides), as the warm tree does the edit', async () => {
    const result = await scenario({
      change: async (dir) => {
        await EDIT_C(dir);
        await utimes(join(dir, 'json_util.c'), new Date('2001-01-01'), new Date('2001-01-01'));
      },
      // ninja in a warm tree misses an edit dated before its objects: it gets the edit with a current time.
      warmChange: EDIT_C,
      cleanKey: 'json_util',
    });
    expect(result.units).toEqual(['json_util.c']);
  });

  it('builds in full when CMAKE_C_FLAGS changed, as CMake rebuilds the warm tree', async () => {
    const flags = ['-DBUILD_TESTING=OFF', '-DCMAKE_C_FLAGS=-O1'];
    const result = await scenario({
      config: { ...config, plugins: [[PLUGIN, { ...options, cacheArgs: flags }]] },
      warmSteps: (dir) => configure(dir, { relocatable: true, cflags: '-O1' }),
      cleanBuild: (dir) => `${configure(dir, { relocatable: true, cflags: '-O1' })} && ${BUILD}`,
    });
    expect(result.report).toMatchObject({ mode: 'full' });
    expect(result.report['reason']).toContain('cacheArgs');
    expect(result.units).toEqual(ALL_UNITS);
  });
});

describe('json-c (CMake, Debug) without the option, at another path than its checkpoint', () => {
  it('leaves out the objects that name the old path, says so naming the option, and equals a clean build there', async () => {
    const checkpoint = await jsonC.checkpoint({
      label: 'plain',
      config: { name: 'json-c-plain', plugins: [[PLUGIN, { jobs: 2, targets: TARGETS, cacheArgs: CACHE_ARGS }]] },
      cleanBuild: (dir) => `${configure(dir, { relocatable: false })} && ${BUILD}`,
      warmBuild: BUILD,
      outputs: OUTPUTS,
    });
    const result = await checkpoint.scenario({ change: EDIT_C });
    expect(result.report).toMatchObject({ mode: 'incremental', changes: { modified: ['json_util.c'] } });
    // The debug info names the build directory (and the sources' directory): the old one, at this path.
    const entries = leftOutNamingOldPath(result.report);
    expect(entries.length).toBeGreaterThan(0);
    const old = checkpoint.first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const entry of entries) {
      expect(entry.reason).toMatch(
        new RegExp(
          `^names the old path '${old}(/build)?' \\(the plugin option 'relocatable: true' makes the build's outputs path-independent\\)$`,
        ),
      );
    }
    // The warm tree, at its own path, compiles the edited unit; here every object left out compiles again.
    expect(result.warmUnits).toEqual(['json_util.c']);
    expect(result.units).toEqual(ALL_UNITS);
    expect(result.outputs).toEqual(result.cleanOutputs);
  });
});
