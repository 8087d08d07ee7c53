/**
 * A recursive make: the top Makefile runs `$(MAKE) -C lib` and `$(MAKE) -C
 * app`, each sub-make with its own rules, none of them visible to the top
 * make's database. A removed file must make exactly what a sub-make built
 * from it rebuild (make itself would not notice: a warm tree stays stale),
 * and a removed file nothing reads must leave everything restored.
 */
import { execa } from 'execa';
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCompilerLog, programOutput, runOrchestrate, scenarioHarness, tempDir } from '@orchestrate/core/testing';

const FILES: Record<string, string> = {
  'orchestrate.config.json': `${JSON.stringify({ name: 'recursive', plugins: ['@orchestrate/plugin-make'] })}\n`,
  Makefile: 'all:\n\t$(MAKE) -C lib\n\t$(MAKE) -C app\n',
  'lib/Makefile': [
    'CFLAGS ?= -O2',
    'liblib.a: words.o count.o',
    '\tar rcs $@ $^',
    '%.o: %.c',
    '\t$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<',
    // A generated header from every data file there is: the wildcard is expanded into the database.
    'words.h: $(wildcard data/*.txt)',
    '\tcat $^ | sed \'s/.*/"&",/\' > $@',
    'words.o: words.h',
    '-include *.d',
    '',
  ].join('\n'),
  'lib/words.c':
    'static const char *words[] = {\n#include "words.h"\n};\nconst char *word(int i) { return words[i]; }\nint nwords(void) { return sizeof words / sizeof *words; }\n',
  'lib/count.c': 'int twice(int n) { return 2 * n; }\n',
  'lib/data/one.txt': 'one\n',
  'lib/data/two.txt': 'two\n',
  'app/Makefile': 'main: main.o ../lib/liblib.a\n\t$(CC) -o $@ $^\n%.o: %.c\n\t$(CC) -O2 -MMD -MP -c -o $@ $<\n-include *.d\n',
  'app/main.c':
    '#include <stdio.h>\nconst char *word(int);\nint nwords(void);\nint twice(int);\nint main(void) { for (int i = 0; i < nwords(); i++) printf("%s\\n", word(i)); printf("%d\\n", twice(nwords())); return 0; }\n',
  'NOTES.md': 'notes\n',
};

const cc = await createCompilerLog(await tempDir('orchestrate-cc-'));

/** A harness over the project `files` make, written to a new directory by `write()`. */
function recursiveHarness(files: Record<string, string>) {
  let project = '';
  const harness = scenarioHarness({
    get project() {
      return project;
    },
    env: { CC: cc.path, ...cc.env },
    cleanBuild: async (dir, env) => {
      await execa('make', [], { cwd: dir, env, stdin: 'ignore' });
    },
    resetUnits: cc.reset,
    // The compiler runs in each sub-make's directory: units are named from there.
    units: cc.units,
  });
  const write = async (): Promise<void> => {
    project = join(await tempDir('orchestrate-recursive-src-'), 'recursive');
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(project, path, '..'), { recursive: true });
      await writeFile(join(project, path), text);
    }
  };
  return { harness, write };
}

const { harness, write } = recursiveHarness(FILES);

describe('a recursive make (top Makefile running $(MAKE) -C in each directory)', () => {
  beforeAll(async () => {
    await write();
    const { run } = await harness.prepare();
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await cc.units()).toEqual(['count.c', 'main.c', 'words.c']);
  });

  it('rebuilds exactly what a sub-make built from a removed file, though make would not notice', async () => {
    const result = await harness.run('remove-data', { change: (dir) => rm(join(dir, 'lib/data/two.txt')) });
    expect(result.run.exitCode, result.run.stderr).toBe(0);
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { removed: ['lib/data/two.txt'] } });
    // words.h was made from two.txt: it, words.o, the library and the program are made again, nothing else.
    expect(result.run.report?.['leftOut']).toEqual([
      { reason: 'built from a removed file', count: 4, cautious: false },
      { reason: 'dependency file of a dropped output', count: 1, cautious: false },
    ]);
    expect(result.units).toEqual(['words.c']);
    expect(await programOutput('./app/main', result.b)).toBe('0\none\n2');
    expect(await harness.diff(result)).toEqual([]);
  });

  it('restores everything when the removed file is read by no sub-make', async () => {
    const result = await harness.run('remove-notes', { change: (dir) => rm(join(dir, 'NOTES.md')) });
    expect(result.run.exitCode, result.run.stderr).toBe(0);
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { removed: ['NOTES.md'] } });
    expect(result.run.report?.['leftOut'] ?? []).toEqual([]);
    expect(result.units).toEqual([]);
    expect(await harness.diff(result)).toEqual([]);
  });

  it("explain names a sub-make's units from the tree's root, and the later sub-make's program that links them", async () => {
    const dir = await harness.freshCopy('explain', (d) => appendFile(join(d, 'lib/count.c'), '/* edited */\n'));
    const explain = await runOrchestrate(['explain'], { cwd: dir, store: harness.store, env: { CC: cc.path, ...cc.env } });
    expect(explain.exitCode, explain.stderr).toBe(0);
    const units = (explain.report?.['units'] ?? []) as { unit: string }[];
    // make -n's sub-makes rebuild nothing, so app/ would not see the library change: the checkpoint's graph adds it.
    expect(units.map((u) => u.unit)).toEqual(['lib/count.o', 'lib/liblib.a', 'app/main']);
    expect(explain.report?.['warnings']).toEqual([]);
    await cc.reset();
    const build = await runOrchestrate(['build', '--no-save', '--verbose'], {
      cwd: dir,
      store: harness.store,
      env: { CC: cc.path, ...cc.env },
    });
    expect(build.exitCode, build.stderr).toBe(0);
    expect(await cc.units()).toEqual(['count.c']);
    expect(build.stderr).toMatch(/-o main main\.o \.\.\/lib\/liblib\.a/);
  });
});

describe('a recursive make whose sub-make hides its directory (--no-print-directory)', () => {
  const hidden = recursiveHarness({ ...FILES, Makefile: 'all:\n\t$(MAKE) --no-print-directory -C lib\n\t$(MAKE) -C app\n' });

  beforeAll(async () => {
    await hidden.write();
    const { run } = await hidden.harness.prepare();
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('leaves out what no database tells the prerequisites of when a file is removed, says so, and equals a clean build', async () => {
    const result = await hidden.harness.run('remove-notes', { change: (dir) => rm(join(dir, 'NOTES.md')) });
    expect(result.run.exitCode, result.run.stderr).toBe(0);
    // lib's sub-make named no directory: its database is not read, and what it built may come from NOTES.md.
    expect(result.run.report).toMatchObject({ mode: 'partial', changes: { removed: ['NOTES.md'] } });
    expect(result.run.report?.['leftOut']).toEqual([
      { reason: 'its prerequisites are unknown to make and a source was removed', count: expect.any(Number), cautious: true },
    ]);
    expect(result.units).toEqual(['count.c', 'words.c']);
    expect(await hidden.harness.diff(result)).toEqual([]);
  });
});
