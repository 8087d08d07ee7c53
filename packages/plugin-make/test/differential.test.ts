/**
 * Differential tests: seeded random edits (change, add, delete, rename,
 * chmod, retarget a link, old or reset mtimes) applied alike to a fresh copy
 * built from the checkpoints and to a copy built from clean; the two must
 * agree byte for byte, every round. Rounds save their checkpoints, so later
 * rounds restore from earlier ones (rolling checkpoints, closest choice).
 * A failing seed is printed with its edits so it can be replayed.
 */
import { execa } from 'execa';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyRandomEdits,
  createCompilerLog,
  listTree,
  mulberry32,
  programOutput,
  scenarioHarness,
  tempDir,
  type EditKind,
  type RandomEditOptions,
} from '@orchestrate/core/testing';

const MAKE_HELLO = resolve(import.meta.dirname, '../../../examples/make-hello');
const GENERATOR = resolve(import.meta.dirname, '../../../examples/gen-many/generate.mjs');
const ALL_KINDS: EditKind[] = ['modify', 'modify', 'add', 'delete', 'rename', 'chmod', 'symlink', 'old-mtime', 'reset-mtimes'];

type Edits = Omit<RandomEditOptions, 'root' | 'rng' | 'count' | 'kinds'>;

async function cFiles(root: string, dir: string, keep: (name: string) => boolean = () => true): Promise<string[]> {
  const names = await readdir(join(root, dir)).catch(() => [] as string[]);
  return names.filter((n) => (n.endsWith('.c') || n.endsWith('.h')) && keep(n)).map((n) => `${dir}/${n}`).sort();
}

function makeHelloEdits(root: string): Edits {
  const generated = new Set(['build-info.c', 'logo-data.c', 'feature-flags.h']);
  return {
    editable: async () => [...(await cFiles(root, 'src', (n) => !generated.has(n))), 'data/motd-a.txt', 'data/motd-b.txt'],
    add: (_rng, n) => ({ path: `src/extra_${n}.c`, content: `int extra_${n}(void) { return ${n}; }\n` }),
    deletable: async () => [...(await cFiles(root, 'src', (n) => n.startsWith('extra_'))), 'data/motd-b.txt'],
    // features.c is not renamed: the Makefile names features.o in the rule that orders feature-flags.h before
    // it, so under another name a clean build fails while a warm tree (restored or not) still has the header.
    renamable: async () =>
      cFiles(root, 'src', (n) => n.endsWith('.c') && !generated.has(n) && n !== 'main.c' && n !== 'features.c'),
    renameTo: (path, n) => `src/renamed_${n}_${path.slice(4)}`,
    modeFlippable: async () => ['tools/features.sh'],
    links: async () => [{ link: 'data/current', targets: ['motd-a.txt', 'motd-b.txt'] }],
    all: async () => listTree(root, (p) => !p.endsWith('.o') && !p.endsWith('.d')),
  };
}

function manyEdits(root: string): Edits {
  return {
    editable: async () => [...(await cFiles(root, 'src', (n) => n !== 'main.c')), ...(await cFiles(root, 'include'))],
    add: (_rng, n) => ({ path: `src/zz_${n}.c`, content: `unsigned zz_${n}(void) { return ${n}u; }\n` }),
    deletable: async () => cFiles(root, 'src', (n) => n.startsWith('zz_')),
    renamable: async () => cFiles(root, 'src', (n) => n.startsWith('unit_')),
    renameTo: (path, n) => `src/r${n}_${path.slice(4)}`,
    all: async () => listTree(root, (p) => !p.endsWith('.o') && !p.endsWith('.d')),
  };
}

async function differential(options: {
  project: string;
  program: string;
  edits: (root: string) => Edits;
  kinds: EditKind[];
  rounds: number;
  seed: number;
  env?: Record<string, string>;
}): Promise<void> {
  const cc = await createCompilerLog(await tempDir('orchestrate-cc-'));
  const harness = scenarioHarness({
    project: options.project,
    env: { CC: cc.path, ...cc.env, ...options.env },
    cleanBuild: async (dir, env) => {
      await execa('make', ['-j2'], { cwd: dir, env, stdin: 'ignore', reject: false });
    },
    resetUnits: cc.reset,
    units: cc.units,
  });
  const first = await harness.prepare();
  expect(first.run.exitCode, first.run.stderr).toBe(0);
  for (let round = 0; round < options.rounds; round++) {
    const seed = options.seed * 1000 + round;
    let edits: unknown;
    const change = async (dir: string): Promise<void> => {
      const rng = mulberry32(seed);
      edits = await applyRandomEdits({ root: dir, rng, count: 1 + rng.int(3), kinds: options.kinds, ...options.edits(dir) });
    };
    const result = await harness.run(`round-${round}`, { change, save: true });
    const label = `seed ${seed}: ${JSON.stringify(edits)}\n${result.run.stderr}`;
    const clean = await programOutput(`./${options.program}`, result.c);
    if (result.run.exitCode !== 0) {
      // The edit broke the build: a clean build must fail too.
      expect(clean, label).not.toMatch(/^0\n/);
      continue;
    }
    expect(result.run.report?.['mode'], label).toBe('incremental');
    expect(await harness.diff(result), label).toEqual([]);
    expect(await programOutput(`./${options.program}`, result.b), label).toBe(clean);
  }
}

describe('differential: random edits, checkpoint build versus clean build', () => {
  it.each([1, 2, 3])('make-hello, seed %i', async (seed) => {
    await differential({ project: MAKE_HELLO, program: 'hello', edits: makeHelloEdits, kinds: ALL_KINDS, rounds: 6, seed });
  });

  it.each([7, 8])('a generated 40-unit project, seed %i', async (seed) => {
    const template = join(await tempDir('orchestrate-many-'), 'many');
    await execa(process.execPath, [GENERATOR, template, '40']);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(template, 'orchestrate.config.json'), JSON.stringify({ plugins: ['@orchestrate/plugin-make'] }));
    await differential({
      project: template,
      program: 'many',
      edits: manyEdits,
      kinds: ['modify', 'modify', 'add', 'delete', 'rename', 'old-mtime', 'reset-mtimes'],
      rounds: 5,
      seed,
    });
  });
});
