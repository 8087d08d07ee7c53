/**
 * Differential tests for make, on the shared driver (`runDifferential`): a
 * working copy takes seeded random edits step after step (bodies, headers,
 * sources added, deleted and renamed (the Makefiles glob them), an executable
 * bit, a link retargeted, the generator's input, touched and old mtimes, a
 * move to another path); each step is built by orchestrate from the latest
 * rolling checkpoint and from clean at the same path, and the objects, the
 * generated files and the program must be equal byte for byte, the program's
 * output the same.
 *
 * The fixed seeds run in CI; `pnpm test:fuzz` runs random ones and
 * `ORCHESTRATE_FUZZ_SEED=<seed> pnpm test:fuzz` replays one (see README.md).
 */
import { execa } from 'execa';
import { readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzPlan, listTree, runDifferential, tempDir, type DifferentialEdits, type EditKind } from '@orchestrate/core/testing';

const MAKE_HELLO = resolve(import.meta.dirname, '../../../examples/make-hello');
const GENERATOR = resolve(import.meta.dirname, '../../../examples/gen-many/generate.mjs');
const ALL_KINDS: EditKind[] = [
  'modify',
  'modify',
  'touch',
  'add',
  'delete',
  'rename',
  'generated-input',
  'chmod',
  'symlink',
  'old-mtime',
  'reset-mtimes',
  'move',
];

async function cFiles(root: string, dir: string, keep: (name: string) => boolean = () => true): Promise<string[]> {
  const names = await readdir(join(root, dir)).catch(() => [] as string[]);
  return names
    .filter((n) => (n.endsWith('.c') || n.endsWith('.h')) && keep(n))
    .map((n) => `${dir}/${n}`)
    .sort();
}

const MAKE_HELLO_GENERATED = new Set(['build-info.c', 'logo-data.c', 'feature-flags.h']);
const isMakeHelloSource = (path: string): boolean =>
  !/\.(o|d|tmp)$/.test(path) && path !== 'hello' && !(path.startsWith('src/') && MAKE_HELLO_GENERATED.has(path.slice(4)));

/** The messages of the day still there (a step may delete data/motd-b.txt). */
async function motd(root: string, letters: string): Promise<string[]> {
  const names = await readdir(join(root, 'data'));
  return names.filter((n) => new RegExp(`^motd-[${letters}]\\.txt$`).test(n)).map((n) => `data/${n}`);
}

function makeHelloEdits(root: string): DifferentialEdits {
  return {
    editable: async () => cFiles(root, 'src', (n) => !MAKE_HELLO_GENERATED.has(n)),
    add: (rng) => {
      const n = rng.int(100_000);
      return { path: `src/extra_${n}.c`, content: `int extra_${n}(void) { return ${n}; }\n` };
    },
    deletable: async () => [...(await cFiles(root, 'src', (n) => n.startsWith('extra_'))), ...(await motd(root, 'b'))],
    // features.c is not renamed: the Makefile names features.o in the rule that orders feature-flags.h before
    // it, so under another name a clean build fails while a warm tree (restored or not) still has the header.
    renamable: async () =>
      cFiles(root, 'src', (n) => n.endsWith('.c') && !MAKE_HELLO_GENERATED.has(n) && n !== 'main.c' && n !== 'features.c'),
    renameTo: (path, n) => `src/renamed_${n}_${path.slice(4)}`,
    // The message of the day, read by tools/gen-info.sh through data/current.
    generatedInputs: async () => motd(root, 'ab'),
    modeFlippable: async () => ['tools/features.sh'],
    links: async () => [{ link: 'data/current', targets: ['motd-a.txt', 'motd-b.txt'] }],
    all: async () => listTree(root, isMakeHelloSource),
  };
}

const isManySource = (path: string): boolean => !/\.(o|d)$/.test(path) && path !== 'many';

function manyEdits(root: string): DifferentialEdits {
  return {
    editable: async () => [...(await cFiles(root, 'src', (n) => n !== 'main.c')), ...(await cFiles(root, 'include'))],
    add: (rng) => {
      const n = rng.int(100_000);
      return { path: `src/zz_${n}.c`, content: `unsigned zz_${n}(void) { return ${n}u; }\n` };
    },
    deletable: async () => cFiles(root, 'src', (n) => n.startsWith('zz_')),
    renamable: async () => cFiles(root, 'src', (n) => n.startsWith('unit_')),
    renameTo: (path, n) => `src/r${n}_${path.slice(4)}`,
    all: async () => listTree(root, isManySource),
  };
}

const cleanMake = async (dir: string, env: Record<string, string>): Promise<boolean> =>
  (await execa('make', ['-j2'], { cwd: dir, env, stdin: 'ignore', reject: false })).exitCode === 0;

/** The program, the objects and the generated sources: everything the build writes but its dependency files. */
const makeOutputs =
  (isSource: (path: string) => boolean) =>
  async (dir: string): Promise<string[]> =>
    listTree(dir, (p) => !isSource(p) && !p.endsWith('.d') && !p.endsWith('.tmp'));

// A deleted or renamed source's object stays in a warm tree; the Makefiles link only the objects of existing sources.
const staleObject = (path: string): boolean => path.endsWith('.o');

// Seed 175559246 of the 40-unit project found a stale program: a source added in one step and deleted in a
// later one, in the same working copy, left the program linked with its object (the make plugin left what was
// built from the removed file out of the restore, but the warm tree still had it, and make saw nothing newer
// to relink); a restore now removes the left-out outputs an earlier build of the tree left there.
const helloPlan = fuzzPlan([1, 2, 3], 5);
const manyPlan = fuzzPlan([7, 8, 175559246], 4);

describe('differential (make): random edits, checkpoint build versus clean build', () => {
  it.each(helloPlan.seeds)('make-hello, seed %i', async (seed) => {
    const steps = await runDifferential({
      project: MAKE_HELLO,
      seed,
      steps: helloPlan.steps,
      kinds: ALL_KINDS,
      edits: makeHelloEdits,
      isSource: isMakeHelloSource,
      cleanBuild: cleanMake,
      outputs: makeOutputs(isMakeHelloSource),
      mayOutlive: staleObject,
      programs: [{ path: 'hello' }],
      replay: `pnpm test:fuzz packages/plugin-make/test/differential.test.ts -t make-hello`,
    });
    expect(steps.filter((s) => s.built).length).toBeGreaterThan(0);
  });

  it.each(manyPlan.seeds)('a generated 40-unit project, seed %i', async (seed) => {
    const template = join(await tempDir('orchestrate-many-'), 'many');
    await execa(process.execPath, [GENERATOR, template, '40']);
    await writeFile(join(template, 'orchestrate.config.json'), JSON.stringify({ plugins: ['@orchestrate/plugin-make'] }));
    const steps = await runDifferential({
      project: template,
      seed,
      steps: manyPlan.steps,
      kinds: ['modify', 'modify', 'touch', 'add', 'delete', 'rename', 'old-mtime', 'reset-mtimes', 'move'],
      edits: manyEdits,
      isSource: isManySource,
      cleanBuild: cleanMake,
      outputs: makeOutputs(isManySource),
      mayOutlive: staleObject,
      programs: [{ path: 'many' }],
      replay: `pnpm test:fuzz packages/plugin-make/test/differential.test.ts -t 40-unit`,
    });
    expect(steps.filter((s) => s.built).length).toBeGreaterThan(0);
  });
});
