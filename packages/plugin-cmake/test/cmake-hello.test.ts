/**
 * The scenario matrix on examples/cmake-hello, for both generators: a
 * checkpoint from copy A, then in a fresh copy B at another absolute path
 * (every file newly written) one change and `orchestrate build`; B's outputs
 * must equal a clean build of the same change (copy C) byte for byte, the
 * recompiled units must be exactly those a warm tree would recompile, and
 * CMake must re-configure only when a build file changed.
 *
 * Compared outputs: objects, `libhello.a`, `hello_app` and the generated
 * headers. Not compared, because they legitimately differ between two trees
 * at different paths or built at different times: `.ninja_log` (times),
 * `.ninja_deps` (record order, mtimes), `CMakeCache.txt`, `CMakeFiles/**`
 * text, `build.ninja`, `Makefile`s, `*.cmake` and `*.d` (absolute paths).
 */
import { execa } from 'execa';
import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCompilerLog,
  listTree,
  programOutput,
  runOrchestrate,
  scenarioHarness,
  setMtimeNs,
  tempDir,
  type ScenarioResult,
} from '@orchestrate/core/testing';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/cmake-hello');
const ALL_UNITS = ['app/main.cpp', 'src/farewell.cpp', 'src/greeting.cpp', 'src/name.cpp', 'src/punctuation.cpp'];
const GENERATORS = ['Ninja', 'Unix Makefiles'] as const;
type Generator = (typeof GENERATORS)[number];

interface PluginConfig {
  generator: Generator;
  cacheArgs?: string[];
}

/** Writes the project's orchestrate config for a generator (and cache arguments). */
async function writeConfig(dir: string, config: PluginConfig): Promise<void> {
  await writeFile(
    join(dir, 'orchestrate.config.json'),
    `${JSON.stringify({ plugins: [['@orchestrate/plugin-cmake', config]] }, null, 2)}\n`,
  );
}

/** A clean build as a user would run it, from the options in the tree's own config. */
async function cleanCMakeBuild(dir: string, env: Record<string, string>): Promise<void> {
  const config = JSON.parse(await readFile(join(dir, 'orchestrate.config.json'), 'utf8')) as { plugins: [[string, PluginConfig]] };
  const options = config.plugins[0][1];
  const build = join(dir, 'build');
  await execa('cmake', ['-S', dir, '-B', build, '-G', options.generator, ...(options.cacheArgs ?? [])], { env, stdin: 'ignore' });
  await execa('cmake', ['--build', build, '--parallel', '2'], { env, stdin: 'ignore' });
}

/** Outputs of the binary directory that must equal a clean build's. */
const isOutput = (path: string): boolean =>
  /\.o$/.test(path) || path === 'libhello.a' || path === 'hello_app' || path.startsWith('generated/');

/** Replaces `from` by `to` in a file, failing when `from` is absent. */
async function edit(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  expect(text, `${file} should contain ${JSON.stringify(from)}`).toContain(from);
  await writeFile(file, text.replace(from, to));
}

/** How many times CMake ran its configure step (in the plugin's configure step or in the build's regeneration rule). */
const configureRuns = (stderr: string): number => (stderr.match(/^\[[^\]]*\] -- Configuring done/gm) ?? []).length;

// One compiler wrapper per generator; its path is part of the fingerprint.
const compilers = Object.fromEntries(
  await Promise.all(GENERATORS.map(async (g) => [g, await createCompilerLog(await tempDir('orchestrate-cxx-'), 'g++')] as const)),
) as Record<Generator, Awaited<ReturnType<typeof createCompilerLog>>>;

describe.each(GENERATORS)('cmake-hello checkpoint builds with %s', (generator) => {
  const cxx = compilers[generator];
  const useConfig =
    (change?: (dir: string) => Promise<unknown>, cacheArgs?: string[]) =>
    async (dir: string): Promise<void> => {
      await writeConfig(dir, { generator, ...(cacheArgs ? { cacheArgs } : {}) });
      await change?.(dir);
    };
  const harness = scenarioHarness({
    project: EXAMPLE,
    // Verbose so the CLI prints the tools' output (with the report on stdout) and re-configures can be counted.
    env: { CXX: cxx.path, ...cxx.env, ORCHESTRATE_VERBOSE: '1' },
    cleanBuild: cleanCMakeBuild,
    resetUnits: cxx.reset,
    units: cxx.units,
  });
  let a = '';

  /** Units compiled in copy B, relative to it; units of other trees (copy A) stay absolute so they fail any expectation. */
  const unitsOf = (result: ScenarioResult): string[] =>
    result.units
      .filter((unit) => unit.startsWith(`${harness.root}/`) && !unit.startsWith(`${result.b}/build/`))
      .map((unit) => (unit.startsWith(`${result.b}/`) ? unit.slice(result.b.length + 1) : unit))
      .sort();

  const run = async (
    label: string,
    change?: (dir: string) => Promise<unknown>,
    options: { cacheArgs?: string[]; clean?: boolean } = {},
  ) => {
    const result = await harness.run(label, {
      change: useConfig(change, options.cacheArgs),
      ...(options.clean === false ? { clean: false } : {}),
    });
    expect(result.run.exitCode, result.run.stderr).toBe(0);
    return result;
  };

  /** B's outputs equal C's byte for byte, and so does the program's behaviour. */
  async function expectEqualToClean(result: ScenarioResult, clean = result.c): Promise<void> {
    expect(clean).not.toBe('');
    const ignore = (path: string): boolean => path.startsWith('build/') && !isOutput(path.slice('build/'.length));
    const outputs = (await listTree(join(result.b, 'build'))).filter(isOutput);
    expect(outputs).toEqual(
      expect.arrayContaining(['CMakeFiles/hello_app.dir/app/main.cpp.o', 'generated/hello/version.hpp', 'hello_app', 'libhello.a']),
    );
    expect(await harness.diff({ ...result, c: clean }, ignore)).toEqual([]);
    expect(await programOutput('./build/hello_app', result.b)).toBe(await programOutput('./build/hello_app', clean));
  }

  beforeAll(async () => {
    const { run: first, dir } = await harness.prepare(useConfig());
    a = dir;
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.report).toMatchObject({ mode: 'full', restored: null });
    expect(first.report?.['saved']).toMatch(/^[0-9a-f]{64}$/);
    expect(configureRuns(first.stderr)).toBe(1);
    const units = (await cxx.units()).filter((u) => u.startsWith(`${dir}/`) && !u.startsWith(`${dir}/build/`));
    expect(units.map((u) => u.slice(dir.length + 1)).sort()).toEqual(ALL_UNITS);
  });

  afterAll(async () => {
    if (harness.root) await rm(harness.root, { recursive: true, force: true });
  });

  it('recompiles nothing and does not re-configure when nothing changed', async () => {
    const result = await run('none', undefined, { clean: false });
    expect(result.run.report).toMatchObject({ mode: 'incremental', reason: null });
    expect(unitsOf(result)).toEqual([]);
    expect(configureRuns(result.run.stderr)).toBe(0);
    // Copy A is a clean build of the same sources, at another path.
    await expectEqualToClean(result, a);
    // Nothing in B's binary directory names A's directories any more.
    const build = join(result.b, 'build');
    const mentions: string[] = [];
    for (const path of await listTree(build)) if ((await readFile(join(build, path))).includes(a)) mentions.push(path);
    expect(mentions).toEqual([]);
    if (generator === 'Ninja') {
      // The restored logs are valid for ninja itself: no missing deps, no changed command line.
      const dry = await execa('ninja', ['-C', build, '-n', '-d', 'explain'], { stdin: 'ignore' });
      expect(dry.stderr).toBe('');
      expect(dry.stdout).toContain('ninja: no work to do.');
    }
  });

  it('recompiles exactly the edited unit', async () => {
    const result = await run('edit-cpp', (dir) => edit(join(dir, 'src/name.cpp'), '"world (v"', '"planet (v"'));
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/name.cpp'] } });
    expect(unitsOf(result)).toEqual(['src/name.cpp']);
    expect(configureRuns(result.run.stderr)).toBe(0);
    await expectEqualToClean(result);
    expect(await programOutput('./build/hello_app', result.b)).toContain('Hello, planet (v1.2.0).');
  });

  it('recompiles exactly the includers of an edited shared header', async () => {
    const result = await run('edit-header', (dir) => appendFile(join(dir, 'src/style.hpp'), '\n#define HELLO_STYLE_EDITED 1\n'));
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/style.hpp'] } });
    expect(unitsOf(result)).toEqual(['src/greeting.cpp', 'src/punctuation.cpp']);
    expect(configureRuns(result.run.stderr)).toBe(0);
    await expectEqualToClean(result);
  });

  it('re-configures and compiles only a source added to CMakeLists.txt', async () => {
    const result = await run('add', async (dir) => {
      await writeFile(join(dir, 'src/extra.cpp'), 'namespace hello {\nint extra() { return 42; }\n}  // namespace hello\n');
      await edit(join(dir, 'CMakeLists.txt'), 'src/farewell.cpp)', 'src/farewell.cpp src/extra.cpp)');
    });
    expect(result.run.report).toMatchObject({
      mode: 'incremental',
      changes: { added: ['src/extra.cpp'], modified: ['CMakeLists.txt'] },
    });
    expect(unitsOf(result)).toEqual(['src/extra.cpp']);
    expect(configureRuns(result.run.stderr)).toBe(1);
    await expectEqualToClean(result);
  });

  it('re-configures, recompiles the edited user and drops the object of a deleted source', async () => {
    const result = await run('delete', async (dir) => {
      await rm(join(dir, 'src/farewell.cpp'));
      await rm(join(dir, 'include/hello/farewell.hpp'));
      await edit(join(dir, 'CMakeLists.txt'), ' src/farewell.cpp)', ')');
      await edit(join(dir, 'app/main.cpp'), '#include "hello/farewell.hpp"\n', '');
      await edit(join(dir, 'app/main.cpp'), '  std::printf("%s\\n", hello::farewell());\n', '');
    });
    expect(result.run.report).toMatchObject({
      mode: 'incremental',
      changes: { removed: ['include/hello/farewell.hpp', 'src/farewell.cpp'] },
    });
    expect(unitsOf(result)).toEqual(['app/main.cpp']);
    expect(configureRuns(result.run.stderr)).toBe(1);
    await expectEqualToClean(result);
    expect(await programOutput('./build/hello_app', result.b)).not.toContain('Goodbye');
  });

  it('re-configures on an edited CMakeLists.txt, then recompiles only what the change requires', async () => {
    const result = await run('edit-cmakelists', (dir) =>
      appendFile(join(dir, 'CMakeLists.txt'), 'target_compile_definitions(hello_app PRIVATE HELLO_APP_EDITION=2)\n'),
    );
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['CMakeLists.txt'] } });
    expect(unitsOf(result)).toEqual(['app/main.cpp']);
    expect(configureRuns(result.run.stderr)).toBe(1);
    await expectEqualToClean(result);
  });

  it('builds in full, naming the entry, when an option() is flipped through the cache arguments', async () => {
    // Decision: cache arguments are part of the fingerprint (a warm cache keeps removed -D values, so re-using it is not a clean configure).
    const result = await run('option-flip', undefined, { cacheArgs: ['-DHELLO_SHOUT=ON'] });
    expect(result.run.report?.['mode']).toBe('full');
    expect(result.run.report?.['reason']).toMatch(/cmake\.cacheArgs changed \('\[\]' → '\["-DHELLO_SHOUT=ON"\]'\)/);
    expect(unitsOf(result)).toEqual(ALL_UNITS);
    await expectEqualToClean(result);
    expect(await programOutput('./build/hello_app', result.b)).toContain('HELLO, world (v1.2.0)!!!');
  });

  it('builds in full, saying why, when the compiler changed in place', async () => {
    const original = await readFile(cxx.path, 'utf8');
    let result: ScenarioResult;
    try {
      // The same path, another binary: CMake's cached detection would never notice.
      await writeFile(cxx.path, original.replace('#!/bin/sh\n', '#!/bin/sh\n# upgraded in place\n'));
      result = await run('compiler', undefined, { clean: false });
    } finally {
      await writeFile(cxx.path, original);
    }
    expect(result.run.report?.['mode']).toBe('full');
    expect(result.run.report?.['reason']).toMatch(/toolchain\.cxx changed/);
    expect(unitsOf(result)).toEqual(ALL_UNITS);
  });

  it('builds the new sources, never those of the old tree still present at the checkpoint path', async () => {
    // Copy A keeps other sources, newer than anything in the checkpoint: a build dir still naming A would compile them.
    const newest = BigInt(Date.now()) * 1_000_000n + 60_000_000_000n;
    for (const [file, from, to] of [
      ['src/greeting.cpp', '"Hello"', '"Greetings from the old tree"'],
      ['src/name.cpp', '"world (v"', '"old tree (v"'],
      ['include/hello/hello.hpp', 'namespace hello {', 'namespace hello {\n// edited in the old tree'],
    ] as const) {
      await edit(join(a, file), from, to);
      await setMtimeNs(join(a, file), newest);
    }
    const result = await run('old-tree', (dir) => edit(join(dir, 'src/punctuation.cpp'), '"."', '"?"'));
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/punctuation.cpp'] } });
    expect(unitsOf(result)).toEqual(['src/punctuation.cpp']);
    await expectEqualToClean(result);
    expect((await programOutput('./build/hello_app', result.b)).split('\n')[1]).toBe('Hello, world (v1.2.0)?');
  });

  it('builds in full, saying why, at a path it cannot relocate to', async () => {
    // A blank is written as `$ ` in build.ninja and `\ ` in Makefiles: a plain replacement would half-relocate the tree.
    const dir = await harness.freshCopy('with space', useConfig());
    await cxx.reset();
    const result = await runOrchestrate(['build', '--no-save'], { cwd: dir, store: harness.store, env: { CXX: cxx.path, ...cxx.env } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.report?.['mode']).toBe('full');
    expect(result.report?.['reason']).toMatch(/cannot be relocated .* contains characters that CMake escapes/);
    expect(await programOutput('./build/hello_app', dir)).toContain('Hello, world (v1.2.0).');
  });

  if (generator === 'Ninja')
    it('relocates with the command table kept with the checkpoint, and without it by evaluating build.ninja', async () => {
      const manifests = async (): Promise<Record<string, unknown>[]> => {
        const dir = join(harness.store, 'checkpoints');
        const out: Record<string, unknown>[] = [];
        for (const project of await readdir(dir)) {
          for (const file of await readdir(join(dir, project))) out.push(JSON.parse(await readFile(join(dir, project, file), 'utf8')));
        }
        return out;
      };
      const tables = (await manifests()).map((m) => (m['attachments'] as Record<string, string> | undefined)?.['cmake.ninja-commands']);
      expect(tables.length).toBeGreaterThan(0);
      for (const table of tables) expect(table).toMatch(/^[0-9a-f]{64}$/);
      const unusable = "the checkpoint's ninja command table is unusable";
      const withTable = await run('table', undefined, { clean: false });
      expect(withTable.run.stderr).not.toContain(unusable);
      expect(unitsOf(withTable)).toEqual([]);

      // A lost attachment: the build.ninja of the restored tree is evaluated instead, with the same result.
      for (const table of new Set(tables)) await rm(join(harness.store, 'objects', (table as string).slice(0, 2), table as string));
      const without = await run('no-table', undefined, { clean: false });
      expect(without.run.stderr).toContain(unusable);
      expect(without.run.report).toMatchObject({ mode: 'incremental', reason: null });
      expect(unitsOf(without)).toEqual([]);
      const dry = await execa('ninja', ['-C', join(without.b, 'build'), '-n', '-d', 'explain'], { stdin: 'ignore' });
      expect(dry.stdout).toContain('ninja: no work to do.');
    });

  it('relocates a checkpoint captured from a relocated tree', async () => {
    const change = (dir: string): Promise<void> => edit(join(dir, 'src/punctuation.cpp'), '"."', '";"');
    const saved = await harness.run('relocated-save', { change: useConfig(change), save: true, clean: false });
    expect(saved.run.exitCode, saved.run.stderr).toBe(0);
    const checkpoint = saved.run.report?.['saved'] as string;
    expect(checkpoint).toMatch(/^[0-9a-f]{64}$/);
    const result = await run('from-relocated', change);
    expect(result.run.report).toMatchObject({ mode: 'incremental', restored: checkpoint });
    expect(unitsOf(result)).toEqual([]);
    expect(configureRuns(result.run.stderr)).toBe(0);
    await expectEqualToClean(result);
  });
});
