/**
 * The scenario matrix on examples/make-hello: a checkpoint from copy A, then
 * in a fresh copy B at another path one change and `orchestrate build`; the
 * result must equal a clean build of the same change (copy C) byte for byte,
 * and the recompiled units must be exactly those the change requires.
 */
import { execa } from 'execa';
import { appendFile, chmod, readFile, readdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCompilerLog, programOutput, scenarioHarness, setMtimeNs, tempDir } from '@orchestrate/core/testing';
import { parseDepFile } from '../src/dep-files.js';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/make-hello');
const ALL_UNITS = [
  'src/build-info.c',
  'src/features.c',
  'src/greet.c',
  'src/logo-data.c',
  'src/logo.c',
  'src/main.c',
  'src/mathx.c',
  'src/strutil.c',
];

async function cleanMake(dir: string, env: Record<string, string>): Promise<void> {
  await execa('make', ['-j2'], { cwd: dir, env, stdin: 'ignore' });
}

/** A harness over make-hello with its own compiler log (and store, once prepared). */
async function makeHelloHarness(cleanBuild: (dir: string, env: Record<string, string>) => Promise<void> = cleanMake) {
  const log = await createCompilerLog(await tempDir('orchestrate-cc-'));
  const h = scenarioHarness({
    project: EXAMPLE,
    env: { CC: log.path, ...log.env },
    cleanBuild,
    resetUnits: log.reset,
    units: log.units,
  });
  return { h, log };
}

/** Deletes the mathx unit and its call and declaration, as a user removing it would. */
async function deleteMathx(dir: string): Promise<void> {
  await rm(join(dir, 'src/mathx.c'));
  const main = join(dir, 'src/main.c');
  await writeFile(main, (await readFile(main, 'utf8')).replace('    unit_mathx();\n', ''));
  const units = join(dir, 'src/units.h');
  await writeFile(units, (await readFile(units, 'utf8')).replace('void unit_mathx(void);\n', ''));
}

const { h: harness, log: cc } = await makeHelloHarness();

/** Units whose dependency file lists `header`, from copy A's full build. */
let includersOf: (header: string) => string[];

async function expectEqualToClean(result: Awaited<ReturnType<typeof harness.run>>): Promise<void> {
  expect(await harness.diff(result)).toEqual([]);
  expect(await programOutput('./hello', result.b)).toBe(await programOutput('./hello', result.c));
}

describe('make-hello checkpoint builds', () => {
  beforeAll(async () => {
    const { run, dir } = await harness.prepare();
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'full', restored: null });
    expect(run.report?.['saved']).toMatch(/^[0-9a-f]{64}$/);
    expect(await cc.units()).toEqual(ALL_UNITS);
    const deps = new Map<string, string[]>();
    for (const name of await readdir(join(dir, 'src'))) {
      if (!name.endsWith('.d')) continue;
      for (const [target, prereqs] of parseDepFile(await readFile(join(dir, 'src', name), 'utf8'))) deps.set(target, prereqs);
    }
    includersOf = (header) =>
      [...deps]
        .filter(([target, prereqs]) => target.endsWith('.o') && prereqs.includes(header))
        .map(([, prereqs]) => prereqs[0] as string)
        .sort();
  });

  it('recompiles nothing when nothing changed', async () => {
    const result = await harness.run('none');
    expect(result.run.exitCode, result.run.stderr).toBe(0);
    expect(result.run.report).toMatchObject({ mode: 'incremental', reason: null });
    expect(result.units).toEqual([]);
    await expectEqualToClean(result);
  });

  it('recompiles exactly the edited unit', async () => {
    const result = await harness.run('edit-c', {
      change: async (dir) => {
        const file = join(dir, 'src/greet.c');
        await writeFile(file, (await readFile(file, 'utf8')).replace('Hello', 'Howdy'));
      },
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/greet.c'] } });
    expect(result.units).toEqual(['src/greet.c']);
    await expectEqualToClean(result);
    expect(await programOutput('./hello', result.b)).toContain('Howdy');
  });

  it('recompiles exactly the includers of an edited shared header', async () => {
    const expected = includersOf('src/common.h');
    expect(expected.length).toBeGreaterThan(1);
    expect(expected.length).toBeLessThan(ALL_UNITS.length);
    const result = await harness.run('edit-h', {
      change: async (dir) => appendFile(join(dir, 'src/common.h'), '\n#define COMMON_EDITED 1\n'),
    });
    expect(result.run.report?.['mode']).toBe('incremental');
    expect(result.units).toEqual(expected);
    await expectEqualToClean(result);
  });

  it('compiles an added unit and nothing else', async () => {
    const result = await harness.run('add', {
      change: async (dir) => writeFile(join(dir, 'src/extra.c'), 'int extra_unit(void) { return 42; }\n'),
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { added: ['src/extra.c'] } });
    expect(result.units).toEqual(['src/extra.c']);
    await expectEqualToClean(result);
  });

  it('drops the outputs of a deleted unit', async () => {
    const expected = includersOf('src/units.h');
    const result = await harness.run('delete', {
      change: deleteMathx,
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { removed: ['src/mathx.c'] } });
    expect(result.units).toEqual(expected);
    await expectEqualToClean(result);
  });

  it('compiles a renamed unit under its new name and drops the old outputs', async () => {
    const result = await harness.run('rename', {
      change: async (dir) => rename(join(dir, 'src/greet.c'), join(dir, 'src/salute.c')),
    });
    expect(result.run.report).toMatchObject({
      mode: 'incremental',
      changes: { added: ['src/salute.c'], removed: ['src/greet.c'] },
    });
    expect(result.units).toEqual(['src/salute.c']);
    await expectEqualToClean(result);
  });

  it('regenerates from a script whose executable bit was cleared', async () => {
    const result = await harness.run('chmod-x', {
      change: async (dir) => chmod(join(dir, 'tools/features.sh'), 0o644),
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modeChanged: ['tools/features.sh'] } });
    expect(result.units).toEqual(includersOf('src/feature-flags.h'));
    await expectEqualToClean(result);
    expect(await programOutput('./hello', result.b)).toContain('HAVE_FEATURES=0');
  });

  it('rebuilds what reads a retargeted symbolic link, though its new target is old', async () => {
    const result = await harness.run('symlink', {
      change: async (dir) => {
        await unlink(join(dir, 'data/current'));
        await symlink('motd-b.txt', join(dir, 'data/current'));
        await setMtimeNs(join(dir, 'data/motd-b.txt'), 946_684_800_000_000_000n);
      },
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { linkChanged: ['data/current'] } });
    expect(result.units).toEqual(['src/build-info.c']);
    await expectEqualToClean(result);
  });

  it('rebuilds from an edited binary input', async () => {
    const result = await harness.run('binary', {
      change: async (dir) => {
        const file = join(dir, 'data/logo.bin');
        const bytes = await readFile(file);
        bytes[3] = (bytes[3] ?? 0) ^ 0xff;
        await writeFile(file, bytes);
      },
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['data/logo.bin'] } });
    expect(result.units).toEqual(['src/logo-data.c']);
    await expectEqualToClean(result);
  });

  it('rebuilds an edited source whose mtime is older than the checkpoint (content decides)', async () => {
    const result = await harness.run('old-mtime', {
      change: async (dir) => {
        const file = join(dir, 'src/mathx.c');
        await writeFile(file, (await readFile(file, 'utf8')).replace('10', '12'));
        await setMtimeNs(file, 946_684_800_000_000_000n);
      },
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/mathx.c'] } });
    expect(result.units).toEqual(['src/mathx.c']);
    await expectEqualToClean(result);
  });

  it('builds in full, saying why, when the Makefile changed', async () => {
    const result = await harness.run('makefile', {
      change: async (dir) => appendFile(join(dir, 'Makefile'), '\n# a comment\n'),
    });
    expect(result.run.exitCode, result.run.stderr).toBe(0);
    expect(result.run.report?.['mode']).toBe('full');
    expect(result.run.report?.['reason']).toMatch(/'Makefile' changed/);
    expect(result.units).toEqual(ALL_UNITS);
    await expectEqualToClean(result);
  });

  it('builds in full, naming the entry, when CFLAGS changed', async () => {
    const result = await harness.run('cflags', { env: { CFLAGS: '-O1' } });
    expect(result.run.report?.['mode']).toBe('full');
    expect(result.run.report?.['reason']).toMatch(/env\.CFLAGS changed \(''? → '-O1'\)|env\.CFLAGS changed/);
    expect(result.units).toEqual(ALL_UNITS);
    await expectEqualToClean(result);
  });

  it('saves a checkpoint unless --no-save', async () => {
    const result = await harness.run('no-save', { clean: false });
    expect(result.run.report).toMatchObject({ mode: 'incremental', saved: null });
    const saving = await harness.run('save', { clean: false, save: true });
    expect(saving.run.report?.['saved']).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('make graph kept from checkpoint to checkpoint', () => {
  it('drops the outputs of a deleted unit after a checkpoint that carried the graph over', async () => {
    const { h } = await makeHelloHarness();
    expect((await h.prepare()).run.report?.['mode']).toBe('full');
    // Nothing rebuilt, no dependency file rewritten: the graph is carried over, make is not asked.
    const carried = await h.run('unchanged', { clean: false, save: true, env: { ORCHESTRATE_DEBUG: 'make' } });
    expect(carried.run.report).toMatchObject({ mode: 'incremental' });
    expect(carried.units).toEqual([]);
    expect(carried.run.stderr).toContain('the recorded make graph is kept');
    // From that checkpoint, a deleted unit's object must not come back (the graph says what was built from it).
    const result = await h.run('delete-after-carry', {
      change: deleteMathx,
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', restored: carried.run.report?.['saved'] });
    expect(await h.diff(result)).toEqual([]);
    expect(await programOutput('./hello', result.b)).toBe(await programOutput('./hello', result.c));
  });
});

describe('a tree built by hand before the first checkpoint', () => {
  it('captures the outputs the full build wrote again, so a fresh copy compiles nothing', async () => {
    const { h, log } = await makeHelloHarness();
    // Outside git every file is a source, the objects and the program of the hand-made build too.
    const first = await h.prepare(async (dir) => cleanMake(dir, { ...process.env, CC: log.path, ...log.env }));
    expect(first.run.report).toMatchObject({ mode: 'full' });
    const result = await h.run('fresh-after-hand-build');
    expect(result.run.report).toMatchObject({ mode: 'incremental', restored: first.run.report?.['saved'] });
    expect(result.units).toEqual([]);
    expect(await h.diff(result)).toEqual([]);
    expect(await programOutput('./hello', result.b)).toBe(await programOutput('./hello', result.c));
  });
});

describe('make-hello with the executable bit set again', () => {
  it('rebuilds when a cleared executable bit is restored', async () => {
    const { h } = await makeHelloHarness();
    const first = await h.prepare(async (dir) => chmod(join(dir, 'tools/features.sh'), 0o644));
    expect(first.run.report?.['mode']).toBe('full');
    const result = await h.run('chmod+x');
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modeChanged: ['tools/features.sh'] } });
    expect(result.units).toEqual(['src/features.c']);
    expect(await h.diff(result)).toEqual([]);
    expect(await programOutput('./hello', result.b)).toContain('HAVE_FEATURES=1');
  });
});

describe('choosing among several checkpoints', () => {
  it('restores the checkpoint closest to the working tree, the newest on a tie', async () => {
    const { h } = await makeHelloHarness();
    const first = await h.prepare();
    const original = first.run.report?.['saved'] as string;
    const edit = async (dir: string): Promise<void> => {
      const file = join(dir, 'src/strutil.c');
      await writeFile(file, (await readFile(file, 'utf8')).replace('"orchestrate"', '"orchestrated"'));
    };
    const edited = await h.run('edited-1', { change: edit, clean: false, save: true });
    expect(edited.run.report).toMatchObject({ mode: 'incremental', restored: original });
    const editedCheckpoint = edited.run.report?.['saved'] as string;

    const again = await h.run('edited-2', { change: edit, clean: false, save: true });
    expect(again.run.report).toMatchObject({ restored: editedCheckpoint });
    expect(again.units).toEqual([]);

    const back = await h.run('original', { clean: false });
    expect(back.run.report).toMatchObject({ mode: 'incremental' });
    // The original sources match the first checkpoint and the no-change rebuild of it; never the edited one.
    expect(back.run.report?.['restored']).not.toBe(editedCheckpoint);
    expect(back.run.report?.['restored']).not.toBe(again.run.report?.['saved']);
    expect(back.units).toEqual([]);
  });
});

describe('make-hello with a separate object directory', () => {
  it('restores the object directory and recompiles exactly the edited unit', async () => {
    const config = JSON.stringify({
      plugins: [['@orchestrate/plugin-make', { objDir: 'build', variables: { OBJDIR: 'build' } }]],
    });
    const useObjDir = async (dir: string): Promise<void> => writeFile(join(dir, 'orchestrate.config.json'), config);
    const { h } = await makeHelloHarness(async (dir, env) => {
      await execa('make', ['-j2', 'OBJDIR=build'], { cwd: dir, env, stdin: 'ignore' });
    });
    const first = await h.prepare(useObjDir);
    expect(first.run.exitCode, first.run.stderr).toBe(0);
    const result = await h.run('objdir-edit', {
      change: async (dir) => {
        await useObjDir(dir);
        await appendFile(join(dir, 'src/logo.c'), '\nint logo_edited = 1;\n');
      },
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/logo.c'] } });
    expect(result.units).toEqual(['src/logo.c']);
    expect(await h.diff(result)).toEqual([]);
    expect(await programOutput('./build/hello', result.b)).toBe(await programOutput('./build/hello', result.c));
  });
});

describe('make-hello compiled with absolute include paths, restored at another path', () => {
  it('follows the edited header of the new tree, not the old tree that still exists', async () => {
    // A header named by its absolute path lands in the .d files with that path.
    const cppflags = '-include $(CURDIR)/src/common.h';
    const config = JSON.stringify({ plugins: [['@orchestrate/plugin-make', { variables: { CPPFLAGS: cppflags } }]] });
    const absolute = async (dir: string): Promise<void> => writeFile(join(dir, 'orchestrate.config.json'), config);
    const { h } = await makeHelloHarness(async (dir, env) => {
      await execa('make', ['-j2', `CPPFLAGS=${cppflags}`], { cwd: dir, env, stdin: 'ignore' });
    });
    const first = await h.prepare(absolute);
    expect(first.run.exitCode, first.run.stderr).toBe(0);
    expect(await readFile(join(first.dir, 'src/greet.d'), 'utf8')).toContain(`${first.dir}/src/common.h`);
    const result = await h.run('absolute-deps', {
      change: async (dir) => {
        await absolute(dir);
        const file = join(dir, 'src/common.h');
        await writeFile(file, (await readFile(file, 'utf8')).replace('#define', '#define COMMON_EDITED 1\n#define'));
      },
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/common.h'] } });
    // Every unit includes the header now; without relocating the .d files make would look at the old
    // tree's unchanged header and compile nothing.
    expect(result.units).toEqual(ALL_UNITS);
    expect(await readFile(join(result.b, 'src/greet.d'), 'utf8')).toContain(`${result.b}/src/common.h`);
    expect(await h.diff(result, (p) => p.endsWith('.d'))).toEqual([]);
  });
});
