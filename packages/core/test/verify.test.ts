/**
 * `orchestrate verify` with real make: a checkpoint build and a clean build
 * of the current sources in a scratch copy, outputs compared byte for byte;
 * the user's tree and the store are left exactly as they were.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orchestrate, tinyProject, treeDigest } from './helpers.js';

/**
 * A Makefile with a warm-build-only bug: `main.o` includes the generated
 * `gen.h` but does not list it, so after an edit of `gen.txt` make
 * regenerates the header and keeps the stale object (and program).
 */
const MISSING_DEPENDENCY: Record<string, string> = {
  Makefile: [
    'CC ?= cc',
    '.NOTPARALLEL:',
    'hello: gen.h main.o',
    '\t$(CC) -o $@ main.o',
    'main.o: main.c',
    '\t$(CC) -c -o $@ main.c',
    'gen.h: gen.txt',
    '\tprintf \'#define GREETING "%s"\\n\' "$$(cat gen.txt)" > gen.h',
    '',
  ].join('\n'),
  'gen.txt': 'hello\n',
  'main.c': '#include <stdio.h>\n#include "gen.h"\nint main(void) { puts(GREETING); return 0; }\n',
};

describe('orchestrate verify', () => {
  it('reports identical outputs (exit 0) for a correct make project after an edit, leaving the tree and the store as they were', async () => {
    const { dir, store } = await tinyProject();
    const first = await orchestrate(['build'], { cwd: dir, store });
    expect(first.exitCode, first.stderr).toBe(0);
    await writeFile(join(dir, 'greet.c'), '#include "greet.h"\nconst char *greeting(void) { return "hi"; }\n');
    const treeBefore = await treeDigest(dir);
    const storeBefore = await treeDigest(store);

    const run = await orchestrate(['verify', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ schemaVersion: 1, command: 'verify', identical: true, compared: 1, differing: [], missing: [] });
    expect(run.json?.['restored']).toMatch(/^[0-9a-f]{64}$/);
    // The edit is in the sources, not in a build: greet.o and hello are still the checkpoint's in the user's tree.
    expect(await treeDigest(dir)).toEqual(treeBefore);
    expect(await treeDigest(store)).toEqual(storeBefore);

    const text = await orchestrate(['verify'], { cwd: dir, store });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^identical: 1 outputs built from checkpoint [0-9a-f]{12} equal a clean build's byte for byte$/);
  });

  it('names the differing output, its offset and a warm-build-only dependency when the Makefile misses a prerequisite (exit 6)', async () => {
    const { dir, store } = await tinyProject({ name: 'gen', files: {} });
    // The buggy project instead of the tiny one's sources.
    await rm(join(dir, 'greet.c'));
    await rm(join(dir, 'greet.h'));
    for (const [path, content] of Object.entries(MISSING_DEPENDENCY)) await writeFile(join(dir, path), content);
    const first = await orchestrate(['build'], { cwd: dir, store });
    expect(first.exitCode, first.stderr).toBe(0);
    await writeFile(join(dir, 'gen.txt'), 'good bye\n');
    const treeBefore = await treeDigest(dir);
    const storeBefore = await treeDigest(store);

    const run = await orchestrate(['verify', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(6);
    expect(run.json).toMatchObject({ schemaVersion: 1, command: 'verify', identical: false, compared: 1, missing: [] });
    const differing = run.json?.['differing'] as Array<{ path: string; offset: number; size: [number, number]; cause?: string }>;
    expect(differing).toHaveLength(1);
    expect(differing[0]?.path).toBe('hello');
    expect(differing[0]?.offset).toBeGreaterThan(0);
    expect(differing[0]?.offset).toBeLessThanOrEqual(Math.min(...(differing[0]?.size ?? [0])));
    expect(differing[0]?.cause).toMatch(/^a warm-build-only dependency: the build files may miss a prerequisite of 'main\.o'/);
    expect(await treeDigest(dir)).toEqual(treeBefore);
    expect(await treeDigest(store)).toEqual(storeBefore);

    const text = await orchestrate(['verify'], { cwd: dir, store });
    expect(text.exitCode).toBe(6);
    expect(text.stdout).toMatch(
      /^ {2}hello: differs at byte \d+ \(\d+ bytes from the checkpoint, \d+ clean\): a warm-build-only dependency/m,
    );
  });

  it('compares the files the config names with outputs globs instead of the plugin defaults', async () => {
    const { dir, store } = await tinyProject({
      config: `${JSON.stringify({ plugins: ['@orchestrate/plugin-make'], outputs: ['*.o'] })}\n`,
    });
    const first = await orchestrate(['build'], { cwd: dir, store });
    expect(first.exitCode, first.stderr).toBe(0);
    const run = await orchestrate(['verify', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ identical: true, compared: 2 });
  });
});
