/**
 * The core's path rule with make: a project built with -g at path A names A in
 * its objects, so a fresh clone at path B restores everything but them (the
 * report's leftOut names the old path and the option), and its outputs equal a
 * clean build at B. With `relocatable: true` the objects name no directory:
 * they all restore at B, one edit recompiles one unit, and the outputs equal a
 * clean build with the same flags anywhere.
 */
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOrchestrate, tempDir, leftOutNamingOldPath } from '@orchestrate/core/testing';

const FILES: Record<string, string> = {
  Makefile: [
    'CFLAGS ?= -g -O0',
    'OBJS = main.o where.o',
    'prog: $(OBJS)',
    '\t$(CC) -o $@ $(OBJS)',
    '%.o: %.c',
    '\t$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<',
    '-include $(OBJS:.o=.d)',
    '',
  ].join('\n'),
  'main.c': '#include <stdio.h>\nconst char *where(void);\nint main(void) { printf("%s\\n", where()); return 0; }\n',
  'where.c': 'const char *where(void) { return __FILE__; }\n',
  '.gitignore': '*.o\n*.d\nprog\n',
};
const OUTPUTS = ['prog', 'main.o', 'where.o'];

async function project(dir: string, options: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
  await writeFile(
    join(dir, 'orchestrate.config.json'),
    JSON.stringify({ name: 'paths-make', plugins: [['@orchestrate/plugin-make', options]] }),
  );
  await execa('git', ['init', '-q'], { cwd: dir });
  await execa('git', ['add', '-A'], { cwd: dir });
  await execa('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'init'], { cwd: dir });
  return dir;
}

const bytesOf = async (dir: string): Promise<Buffer[]> => Promise.all(OUTPUTS.map((name) => readFile(join(dir, name))));
const pathEntries = leftOutNamingOldPath;

describe('make objects that name the old path', () => {
  it('are left out at another path, the report says why and names the option, and the outputs equal a clean build there', async () => {
    const root = await tempDir('orchestrate-paths-make-');
    const store = join(root, 'store');
    const a = await project(join(root, 'A', 'proj'), {});
    const first = await runOrchestrate(['build'], { cwd: a, store });
    expect(first.exitCode, first.stderr).toBe(0);

    const b = await project(join(root, 'B', 'proj'), {});
    const run = await runOrchestrate(['build', '--no-save'], { cwd: b, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'incremental', unitsRebuilt: 2, unitsTotal: 2 });
    const entries = pathEntries(run.report);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.reason).toBe(
      `names the old path '${a}' (the plugin option 'relocatable: true' makes the build's outputs path-independent)`,
    );
    // Both objects and the program (its debug info); the dependency files are relocated text.
    expect(entries[0]?.count).toBe(3);
    expect((await execa('./prog', { cwd: b })).stdout).toBe('where.c');
    const restored = await bytesOf(b);
    await execa('make', ['-B'], { cwd: b });
    expect(await bytesOf(b)).toEqual(restored);
    expect((await bytesOf(b))[0]?.includes(a)).toBe(false);
  });

  it("with 'relocatable: true' restore in full at another path, an edit recompiles one unit, and the outputs equal a clean build with the same flags", async () => {
    const root = await tempDir('orchestrate-paths-make-reloc-');
    const store = join(root, 'store');
    const a = await project(join(root, 'A', 'proj'), { relocatable: true });
    const first = await runOrchestrate(['build'], { cwd: a, store });
    expect(first.exitCode, first.stderr).toBe(0);

    const b = await project(join(root, 'B', 'proj'), { relocatable: true });
    await writeFile(join(b, 'where.c'), 'const char *where(void) { return "edited " __FILE__; }\n');
    const run = await runOrchestrate(['build', '--no-save'], { cwd: b, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'incremental', unitsRebuilt: 1, unitsTotal: 2 });
    expect(pathEntries(run.report)).toEqual([]);
    expect((await execa('./prog', { cwd: b })).stdout).toBe('edited where.c');

    // A clean build elsewhere, with the flags the option gives there: the same bytes.
    const c = await project(join(root, 'C', 'other'), { relocatable: true });
    await writeFile(join(c, 'where.c'), 'const char *where(void) { return "edited " __FILE__; }\n');
    await execa('make', [], { cwd: c, env: { CPPFLAGS: `-ffile-prefix-map=${c}=.` } });
    expect(await bytesOf(b)).toEqual(await bytesOf(c));
  });
});
