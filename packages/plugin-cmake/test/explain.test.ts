/**
 * `orchestrate explain` with CMake and Ninja on a tiny project whose object
 * embeds `__FILE__`: built at path A, explained and then built at path B.
 * explain names the binaries left out because they name the old path, with
 * the option that would make them relocatable, and its predicted compile
 * units equal what the build at B compiles (a compiler wrapper's log).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCompilerLog, runOrchestrate, tempDir } from '@orchestrate/core/testing';

const FILES: Record<string, string> = {
  'CMakeLists.txt':
    'cmake_minimum_required(VERSION 3.20)\nproject(filepath LANGUAGES C)\nadd_executable(where src/main.c src/where.c src/plain.c)\n',
  'src/where.c': 'const char *where(void) { return __FILE__; }\n',
  'src/plain.c': 'int plain(void) { return 42; }\n',
  'src/main.c':
    '#include <stdio.h>\nconst char *where(void);\nint plain(void);\nint main(void) { printf("%s %d\\n", where(), plain()); return 0; }\n',
  'orchestrate.config.json': JSON.stringify({ name: 'filepath', plugins: [['@orchestrate/plugin-cmake', { generator: 'Ninja' }]] }),
};

async function writeProject(dir: string): Promise<void> {
  for (const [path, text] of Object.entries(FILES)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

describe('orchestrate explain (CMake, Ninja, relocated)', () => {
  it('names the objects that embed the old path and predicts exactly what the build at the new path compiles', async () => {
    const root = await tempDir('orchestrate-cmake-explain-');
    const cc = await createCompilerLog(join(root, 'cc'));
    const env = { CC: cc.path, ...cc.env };
    const store = join(root, 'store');
    const a = join(root, 'A', 'filepath');
    const b = join(root, 'B', 'filepath');
    await writeProject(a);
    await writeProject(b);
    const first = await runOrchestrate(['build'], { cwd: a, store, env });
    expect(first.exitCode, first.stderr).toBe(0);
    await writeFile(join(b, 'src/plain.c'), 'int plain(void) { return 43; }\n');

    await cc.reset();
    const explain = await runOrchestrate(['explain'], { cwd: b, store, env });
    expect(explain.exitCode, explain.stderr).toBe(0);
    expect(await cc.units()).toEqual([]);
    const report = explain.report ?? {};
    expect(report['mode']).toBe('incremental');
    const leftOut = report['leftOut'] as { path: string; reason: string }[];
    expect(leftOut.map((item) => item.path)).toContain('CMakeFiles/where.dir/src/where.c.o');
    for (const item of leftOut) {
      // The core's path rule: the old root, and the plugin option that makes the outputs path-independent.
      expect(item.reason).toContain(`names the old path '${a}'`);
      expect(item.reason).toContain(`'relocatable: true'`);
    }
    const units = report['units'] as { unit: string; sources?: string[]; causes: { kind: string; path?: string }[] }[];
    const where = units.find((u) => u.unit === 'CMakeFiles/where.dir/src/where.c.o');
    expect(where?.causes).toContainEqual(expect.objectContaining({ kind: 'left-out', path: 'CMakeFiles/where.dir/src/where.c.o' }));
    const plain = units.find((u) => u.unit === 'CMakeFiles/where.dir/src/plain.c.o');
    expect(plain?.causes).toContainEqual({ kind: 'changed', path: 'src/plain.c' });
    expect(report['warnings']).toEqual([]);
    const predicted = units.flatMap((u) => u.sources ?? []).sort();
    expect(predicted).toEqual(['src/plain.c', 'src/where.c']);

    const build = await runOrchestrate(['build', '--no-save'], { cwd: b, store, env });
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.report?.['restored']).toBe(report['checkpoint']);
    // CMake passes sources absolute: the log's paths, relative to B.
    expect((await cc.units()).map((path) => path.replace(`${b}/`, '')).sort()).toEqual(predicted);
  });
});
