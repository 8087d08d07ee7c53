/**
 * The core's path rule with a CMake Debug build (a static library and a
 * program, Ninja): at another path the objects, which name the old
 * directories in their debug info, are left out and the report says so; with
 * `relocatable: true` nothing is left out, one edit recompiles one unit, and
 * the outputs equal a clean build with the same flags at yet another path.
 */
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOrchestrate, tempDir, leftOutNamingOldPath } from '@orchestrate/core/testing';

const FILES: Record<string, string> = {
  'CMakeLists.txt': [
    'cmake_minimum_required(VERSION 3.16)',
    'project(paths C)',
    'add_library(greet STATIC greet.c)',
    'add_executable(app main.c)',
    'target_link_libraries(app greet)',
    '',
  ].join('\n'),
  'greet.c': 'const char *greet(void) { return "hello from " __FILE__; }\n',
  'main.c': '#include <stdio.h>\nconst char *greet(void);\nint main(void) { puts(greet()); return 0; }\n',
  '.gitignore': 'build/\n',
};
const OUTPUTS = ['build/app', 'build/libgreet.a'];
const EDIT = 'const char *greet(void) { return "edited"; }\n';

async function project(dir: string, options: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
  const plugin = ['@orchestrate/plugin-cmake', { generator: 'Ninja', buildType: 'Debug', ...options }];
  await writeFile(join(dir, 'orchestrate.config.json'), JSON.stringify({ name: 'paths-cmake', plugins: [plugin] }));
  await execa('git', ['init', '-q'], { cwd: dir });
  await execa('git', ['add', '-A'], { cwd: dir });
  await execa('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'init'], { cwd: dir });
  return dir;
}

const bytesOf = async (dir: string): Promise<Buffer[]> => Promise.all(OUTPUTS.map((name) => readFile(join(dir, name))));
const pathEntries = leftOutNamingOldPath;

describe('a CMake Debug build at another path', () => {
  it('leaves out the binaries that name the old directories and reports how many and why', async () => {
    const root = await tempDir('orchestrate-paths-cmake-');
    const store = join(root, 'store');
    const a = await project(join(root, 'A', 'proj'), {});
    const first = await runOrchestrate(['build'], { cwd: a, store });
    expect(first.exitCode, first.stderr).toBe(0);

    const b = await project(join(root, 'B', 'proj'), {});
    const run = await runOrchestrate(['build', '--no-save'], { cwd: b, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'incremental', unitsRebuilt: 2 });
    const reasons = pathEntries(run.report);
    // The objects, the library and the program name the build directory (their debug info's compilation
    // directory); CMake's text files are relocated, so they are not among them.
    expect(reasons).toEqual([
      {
        reason: `names the old path '${join(a, 'build')}' (the plugin option 'relocatable: true' makes the build's outputs path-independent)`,
        count: 4,
        cautious: false,
      },
    ]);
    expect((await execa('./build/app', { cwd: b })).stdout).toBe(`hello from ${b}/greet.c`);
    const restored = await bytesOf(b);
    await execa('cmake', ['--build', join(b, 'build'), '--clean-first']);
    expect(await bytesOf(b)).toEqual(restored);
  });

  it("with 'relocatable: true' leaves nothing out, recompiles the edited unit only, and equals a clean build with the same flags", async () => {
    const root = await tempDir('orchestrate-paths-cmake-reloc-');
    const store = join(root, 'store');
    const a = await project(join(root, 'A', 'proj'), { relocatable: true });
    const first = await runOrchestrate(['build'], { cwd: a, store });
    expect(first.exitCode, first.stderr).toBe(0);

    const b = await project(join(root, 'B', 'proj'), { relocatable: true });
    await writeFile(join(b, 'greet.c'), EDIT);
    const run = await runOrchestrate(['build', '--no-save'], { cwd: b, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'incremental', unitsRebuilt: 1, unitsTotal: 2 });
    expect(pathEntries(run.report)).toEqual([]);
    expect((await execa('./build/app', { cwd: b })).stdout).toBe('edited');

    const c = await project(join(root, 'C', 'other'), {});
    await writeFile(join(c, 'greet.c'), EDIT);
    const maps = `-ffile-prefix-map=${c}=. -ffile-prefix-map=${c}/build=.`;
    await execa('cmake', [
      '-S',
      c,
      '-B',
      join(c, 'build'),
      '-G',
      'Ninja',
      '-DCMAKE_BUILD_TYPE=Debug',
      `-DCMAKE_C_FLAGS=${maps}`,
      `-DCMAKE_CXX_FLAGS=${maps}`,
    ]);
    await execa('cmake', ['--build', join(c, 'build')]);
    expect(await bytesOf(b)).toEqual(await bytesOf(c));
  });
});
