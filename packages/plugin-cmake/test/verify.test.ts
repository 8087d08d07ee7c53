/**
 * `orchestrate verify` on a tiny CMake project (Ninja): after an edit, the
 * executable built from the checkpoint equals a clean build's byte for byte.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOrchestrate, tempDir } from '@orchestrate/core/testing';

describe('orchestrate verify (cmake, Ninja)', () => {
  it('reports the executable and library identical after an edit', async () => {
    const root = await tempDir('orchestrate-cmake-verify-');
    const dir = join(root, 'proj');
    const store = join(root, 'store');
    await mkdir(dir);
    const files: Record<string, string> = {
      'CMakeLists.txt':
        'cmake_minimum_required(VERSION 3.16)\nproject(tiny C)\nadd_library(greet STATIC greet.c)\nadd_executable(hello main.c)\ntarget_link_libraries(hello greet)\n',
      'greet.c': 'const char *greeting(void) { return "hello"; }\n',
      'main.c': '#include <stdio.h>\nconst char *greeting(void);\nint main(void) { puts(greeting()); return 0; }\n',
      'orchestrate.config.json': `${JSON.stringify({ plugins: [['@orchestrate/plugin-cmake', { generator: 'Ninja' }]] })}\n`,
    };
    for (const [path, content] of Object.entries(files)) await writeFile(join(dir, path), content);
    const first = await runOrchestrate(['build'], { cwd: dir, store });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.report).toMatchObject({ mode: 'full', unitsRebuilt: 2, unitsTotal: 2 });
    await writeFile(join(dir, 'greet.c'), 'const char *greeting(void) { return "hi"; }\n');

    const run = await runOrchestrate(['verify'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ identical: true, compared: 2, differing: [], missing: [], restored: first.report?.['saved'] });
  });
});
