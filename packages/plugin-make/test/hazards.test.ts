/**
 * Warm-build hazards are named: a Makefile without header dependencies (as
 * many in the wild are) leaves an object stale after a header edit, exactly
 * as a warm tree would. The build warns, naming the header and the object,
 * the report lists it, the checkpoint saved after it is marked, and
 * `orchestrate verify` confirms the difference against a clean build.
 */
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOrchestrate, tempDir } from '@orchestrate/core/testing';

const FILES: Record<string, string> = {
  // No header dependency: '%.o: %.c' only.
  Makefile: 'hello: main.o greet.o\n\t$(CC) -o $@ main.o greet.o\n%.o: %.c\n\t$(CC) -c -o $@ $<\n',
  'greet.h': '#define GREETING "hello"\nconst char *greeting(void);\n',
  'greet.c': '#include "greet.h"\nconst char *greeting(void) { return GREETING; }\n',
  'main.c': '#include <stdio.h>\n#include "greet.h"\nint main(void) { puts(greeting()); return 0; }\n',
  'orchestrate.config.json': '{ "name": "hazard", "plugins": ["@orchestrate/plugin-make"] }\n',
};

describe('a Makefile that misses a header dependency', () => {
  it('gives a warning naming the header and the stale object, marks the checkpoint, and verify confirms', async () => {
    const root = await tempDir('orchestrate-hazard-');
    const dir = join(root, 'hazard');
    const store = join(root, 'store');
    await mkdir(dir);
    for (const [path, content] of Object.entries(FILES)) await writeFile(join(dir, path), content);
    expect((await runOrchestrate(['build'], { cwd: dir, store })).exitCode).toBe(0);

    await writeFile(join(dir, 'greet.h'), FILES['greet.h']!.replace('"hello"', '"changed"'));
    const run = await runOrchestrate(['build', '--verbose'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['greet.h'] } });
    // greet.o and main.o both include greet.h; make rebuilt neither, so the program still says hello.
    expect(String((await execa('./hello', { cwd: dir })).stdout)).toBe('hello');
    const warnings = run.report?.['warnings'] as string[];
    for (const object of ['greet.o', 'main.o']) {
      expect(warnings).toContainEqual(expect.stringContaining(`'greet.h' changed and '${object}' reads it`));
    }
    expect(run.stderr).toContain(
      `[orchestrate:make] warning: 'greet.h' changed and 'greet.o' reads it ('greet.c' includes it), but make did not rebuild 'greet.o'`,
    );

    const manifests = (await execa('find', [join(store, 'checkpoints'), '-name', `${run.report?.['saved'] as string}.json`])).stdout;
    const marked = JSON.parse(await readFile(manifests.trim(), 'utf8')) as { data: { make: { hazards?: { output: string }[] } } };
    expect(marked.data.make.hazards?.map((h) => h.output).sort()).toEqual(['greet.o', 'main.o']);

    const verify = await runOrchestrate(['verify'], { cwd: dir, store });
    expect(verify.exitCode, verify.stderr).toBe(6);
    expect(verify.report).toMatchObject({ identical: false, differing: [expect.objectContaining({ path: 'hello' })] });
  });
});
