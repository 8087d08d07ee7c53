/**
 * A program linked to the project's own shared library carries CMake's build
 * RUNPATH: the absolute build directory. Restored at another path, such a
 * binary would load the library of the old tree; the plugin leaves it out of
 * the restore so the build links it again, and recompiles nothing.
 */
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCompilerLog, programOutput, scenarioHarness, tempDir } from '@orchestrate/core/testing';

async function writeProject(dir: string): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(
    join(dir, 'CMakeLists.txt'),
    `cmake_minimum_required(VERSION 3.20)
project(shared_hello LANGUAGES C)
add_compile_options("-ffile-prefix-map=\${CMAKE_SOURCE_DIR}=." "-ffile-prefix-map=\${CMAKE_BINARY_DIR}=." -g0)
add_library(greet SHARED src/greet.c)
add_executable(app src/main.c)
target_link_libraries(app PRIVATE greet)
`,
  );
  await writeFile(join(dir, 'src/greet.c'), 'const char *greet(void) { return "hello from the shared library"; }\n');
  await writeFile(join(dir, 'src/main.c'), '#include <stdio.h>\nconst char *greet(void);\nint main(void) { puts(greet()); return 0; }\n');
  await writeFile(
    join(dir, 'orchestrate.config.json'),
    JSON.stringify({ plugins: [['@orchestrate/plugin-cmake', { generator: 'Ninja' }]] }),
  );
}

describe('a program linked to a shared library of the project', () => {
  it('is linked again at another path instead of refusing the checkpoint', async () => {
    const template = join(await tempDir('orchestrate-shared-'), 'shared-hello');
    await writeProject(template);
    const cc = await createCompilerLog(await tempDir('orchestrate-cc-'));
    const h = scenarioHarness({
      project: template,
      env: { CC: cc.path, ...cc.env },
      cleanBuild: async (dir, env) => {
        await execa('cmake', ['-S', dir, '-B', join(dir, 'build'), '-G', 'Ninja'], { env, stdin: 'ignore' });
        await execa('cmake', ['--build', join(dir, 'build')], { env, stdin: 'ignore' });
      },
      resetUnits: cc.reset,
      units: cc.units,
    });
    const first = await h.prepare();
    expect(first.run.exitCode, first.run.stderr).toBe(0);
    const runpath = async (dir: string): Promise<string> =>
      String((await execa('readelf', ['-d', join(dir, 'build/app')])).stdout).match(/RUNPATH.*\[(.*)\]/)?.[1] ?? '';
    expect(await runpath(first.dir)).toBe(join(first.dir, 'build'));

    const result = await h.run('moved');
    expect(result.run.report).toMatchObject({ mode: 'incremental' });
    expect(result.units).toEqual([]);
    expect(await runpath(result.b)).toBe(join(result.b, 'build'));
    expect(await programOutput('./build/app', result.b)).toBe(await programOutput('./build/app', result.c));
    expect(await readFile(join(result.b, 'build/libgreet.so'))).toEqual(await readFile(join(result.c, 'build/libgreet.so')));
  });
});
