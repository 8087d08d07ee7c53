/**
 * `orchestrate explain` and `build --dry-run` against real make on
 * examples/make-hello: a checkpoint from copy A, then in a fresh copy B at
 * another path one change; explain's predicted compile units must equal what
 * the `orchestrate build` that follows in B compiles (a compiler wrapper's
 * log), and explain must leave B and the store exactly as they were.
 */
import { appendFile, chmod, lstat, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCompilerLog, listTree, runOrchestrate, scenarioHarness, setMtimeNs, tempDir, type CliRun } from '@orchestrate/core/testing';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/make-hello');

const cc = await createCompilerLog(await tempDir('orchestrate-cc-'));
const harness = scenarioHarness({
  project: EXAMPLE,
  env: { CC: cc.path, ...cc.env },
  cleanBuild: async () => undefined,
  resetUnits: cc.reset,
  units: cc.units,
});
const env = { CC: cc.path, ...cc.env };

/** Every file of a tree with its bytes' digest and its exact mtime: explain may change neither. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of await listTree(dir)) {
    const info = await lstat(join(dir, path), { bigint: true });
    out[path] =
      `${info.size}:${info.mtimeNs}:${info.isSymbolicLink() ? 'link' : (await readFile(join(dir, path))).toString('base64').slice(0, 64)}`;
  }
  return out;
}

interface Explained {
  explain: CliRun;
  /** The sources of the compile units explain predicts, sorted. */
  predicted: string[];
  /** What the build that followed compiled. */
  compiled: string[];
  build: CliRun;
}

/** A fresh copy with `change`; explain there (the tree and the store untouched), then build and read the compiler log. */
async function explainThenBuild(label: string, change?: (dir: string) => Promise<void>, args: string[] = ['explain']): Promise<Explained> {
  const dir = await harness.freshCopy(label, change);
  const [treeBefore, storeBefore] = [await snapshot(dir), await snapshot(harness.store)];
  await cc.reset();
  const explain = await runOrchestrate(args, { cwd: dir, store: harness.store, env });
  expect(explain.exitCode, explain.stderr).toBe(0);
  expect(await cc.units()).toEqual([]); // a dry run compiles nothing
  expect(await snapshot(dir)).toEqual(treeBefore);
  expect(await snapshot(harness.store)).toEqual(storeBefore);
  const units = (explain.report?.['units'] ?? []) as { unit: string; sources?: string[] }[];
  const predicted = units.flatMap((u) => u.sources ?? []).sort();
  const build = await runOrchestrate(['build', '--no-save'], { cwd: dir, store: harness.store, env });
  expect(build.exitCode, build.stderr).toBe(0);
  return { explain, predicted, compiled: await cc.units(), build };
}

const edit =
  (file: string, from: string, to: string) =>
  async (dir: string): Promise<void> => {
    const path = join(dir, file);
    await writeFile(path, (await readFile(path, 'utf8')).replace(from, to));
  };

/** Deletes the mathx unit and its call and declaration, as make-hello.test.ts's deleteMathx does. */
async function deleteMathx(dir: string): Promise<void> {
  await rm(join(dir, 'src/mathx.c'));
  await edit('src/main.c', '    unit_mathx();\n', '')(dir);
  await edit('src/units.h', 'void unit_mathx(void);\n', '')(dir);
}

/**
 * The make-hello matrix's changes (packages/plugin-make/test/make-hello.test.ts), each with the change set
 * the build reports and the sources it compiles there.
 */
const MATRIX: { name: string; change: (dir: string) => Promise<void>; changes: Record<string, string[]>; units: string[] }[] = [
  {
    name: 'an added unit',
    change: async (dir) => writeFile(join(dir, 'src/extra.c'), 'int extra_unit(void) { return 42; }\n'),
    changes: { added: ['src/extra.c'] },
    units: ['src/extra.c'],
  },
  { name: 'a deleted unit (mathx)', change: deleteMathx, changes: { removed: ['src/mathx.c'] }, units: ['src/main.c'] },
  {
    name: 'a renamed unit',
    change: async (dir) => rename(join(dir, 'src/greet.c'), join(dir, 'src/salute.c')),
    changes: { added: ['src/salute.c'], removed: ['src/greet.c'] },
    units: ['src/salute.c'],
  },
  {
    name: 'the executable bit cleared on the generator script',
    change: async (dir) => chmod(join(dir, 'tools/features.sh'), 0o644),
    changes: { modeChanged: ['tools/features.sh'] },
    units: ['src/features.c'],
  },
  {
    name: 'a retargeted symbolic link whose new target is old',
    change: async (dir) => {
      await unlink(join(dir, 'data/current'));
      await symlink('motd-b.txt', join(dir, 'data/current'));
      await setMtimeNs(join(dir, 'data/motd-b.txt'), 946_684_800_000_000_000n);
    },
    changes: { linkChanged: ['data/current'] },
    units: ['src/build-info.c'],
  },
  {
    name: 'an edited binary input',
    change: async (dir) => {
      const file = join(dir, 'data/logo.bin');
      const bytes = await readFile(file);
      bytes[3] = (bytes[3] ?? 0) ^ 0xff;
      await writeFile(file, bytes);
    },
    changes: { modified: ['data/logo.bin'] },
    units: ['src/logo-data.c'],
  },
  {
    name: 'an edited source with an mtime older than the checkpoint',
    change: async (dir) => {
      await edit('src/mathx.c', '10', '12')(dir);
      await setMtimeNs(join(dir, 'src/mathx.c'), 946_684_800_000_000_000n);
    },
    changes: { modified: ['src/mathx.c'] },
    units: ['src/mathx.c'],
  },
];

describe('orchestrate explain (make-hello)', () => {
  beforeAll(async () => {
    const { run } = await harness.prepare();
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('predicts nothing when nothing changed, and the build compiles nothing', async () => {
    const r = await explainThenBuild('none');
    expect(r.explain.report).toMatchObject({ schemaVersion: 1, command: 'explain', mode: 'incremental', units: [], warnings: [] });
    expect(r.explain.report?.['checkpoint']).toBe(r.build.report?.['restored']);
    expect(r.predicted).toEqual([]);
    expect(r.compiled).toEqual([]);
  });

  it('predicts exactly the edited unit and the link, each with its cause', async () => {
    const r = await explainThenBuild('edit-c', edit('src/greet.c', 'Hello', 'Howdy'));
    const report = r.explain.report ?? {};
    expect(report['changes']).toMatchObject({ modified: ['src/greet.c'] });
    expect(report['units']).toEqual([
      expect.objectContaining({ unit: 'src/greet.o', sources: ['src/greet.c'], causes: [{ kind: 'changed', path: 'src/greet.c' }] }),
      expect.objectContaining({ unit: 'hello', causes: [{ kind: 'input-rebuilt', unit: 'src/greet.o' }] }),
    ]);
    expect(report['warnings']).toEqual([]);
    expect(r.predicted).toEqual(['src/greet.c']);
    expect(r.compiled).toEqual(r.predicted);
  });

  it('predicts the includers of an edited header, as the build compiles them', async () => {
    const r = await explainThenBuild('edit-h', async (dir) => appendFile(join(dir, 'src/common.h'), '\n#define COMMON_EDITED 1\n'));
    expect(r.predicted.length).toBeGreaterThan(1);
    expect(r.compiled).toEqual(r.predicted);
    const units = (r.explain.report?.['units'] ?? []) as { unit: string; causes: unknown[] }[];
    for (const unit of units.filter((u) => u.unit.endsWith('.o')))
      expect(unit.causes).toContainEqual({ kind: 'changed', path: 'src/common.h' });
    expect(r.explain.report?.['warnings']).toEqual([]);
  });

  it('explains the refusal of a Makefile change: which checkpoint, why the build is full', async () => {
    const r = await explainThenBuild('makefile', async (dir) => appendFile(join(dir, 'Makefile'), '\n# edited\n'));
    const report = r.explain.report ?? {};
    expect(report['mode']).toBe('full');
    expect(report['checkpoint']).toBeNull();
    expect(report['reason']).toMatch(
      /^checkpoint [0-9a-f]{12} refused: make does not track changes to its makefiles, and 'Makefile' changed/,
    );
    expect(report['reason']).toBe(r.build.report?.['reason']);
    const candidates = report['candidates'] as { chosen: boolean; fingerprint: unknown[]; changes: number }[];
    expect(candidates).toContainEqual(expect.objectContaining({ chosen: true, fingerprint: [], changes: 1 }));
    expect(r.predicted.length).toBe(8);
    expect(r.compiled).toEqual(r.predicted);
  });

  it('names the differing fingerprint entry of each candidate', async () => {
    const dir = await harness.freshCopy('flags');
    const run = await runOrchestrate(['explain'], { cwd: dir, store: harness.store, env: { ...env, CFLAGS: '-O0' } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report?.['mode']).toBe('full');
    const candidates = run.report?.['candidates'] as {
      fingerprint: { key: string; recorded: string; current: string }[];
      chosen: boolean;
    }[];
    expect(candidates.length).toBeGreaterThan(0);
    for (const c of candidates) {
      expect(c.chosen).toBe(false);
      expect(c.fingerprint).toContainEqual({ key: 'env.CFLAGS', recorded: '', current: '-O0' });
    }
    expect(run.report?.['reason']).toMatch(/fingerprint differs from checkpoint [0-9a-f]{12}: env\.CFLAGS changed/);
  });

  describe.each(MATRIX)('after $name', ({ name, change, changes, units }) => {
    it('predicts exactly the units the following build compiles, each explained', async () => {
      const r = await explainThenBuild(name.replace(/\W+/g, '-'), change);
      const report = r.explain.report ?? {};
      expect(report).toMatchObject({ mode: 'incremental', changes });
      expect(report['checkpoint']).toBe(r.build.report?.['restored']);
      expect(report['warnings']).toEqual([]);
      expect(r.predicted).toEqual(r.compiled);
      expect(r.compiled).toEqual(units);
    });
  });

  it('build --dry-run gives the same prediction and restores nothing', async () => {
    const r = await explainThenBuild('dry-run', edit('src/greet.c', 'Hello', 'Howdy'), ['build', '--dry-run']);
    expect(r.explain.report).toMatchObject({ command: 'build --dry-run', mode: 'incremental' });
    expect(r.predicted).toEqual(['src/greet.c']);
    expect(r.compiled).toEqual(r.predicted);
  });

  it('prints a short report for people', async () => {
    const dir = await harness.freshCopy('text', edit('src/greet.c', 'Hello', 'Howdy'));
    const { runProcess } = await import('../src/process.js');
    const { CLI_BIN } = await import('@orchestrate/core/testing');
    const result = await runProcess(process.execPath, [CLI_BIN, 'explain', '--store', harness.store], {
      cwd: dir,
      env: { ...process.env, CI: 'true', ...env },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^checkpoint: [0-9a-f]{12} /);
    expect(result.stdout).toContain('modified: src/greet.c');
    expect(result.stdout).toContain("src/greet.o: 'src/greet.c' changed");
    expect(result.stdout).toContain("hello: 'src/greet.o' is rebuilt");
  });
});
