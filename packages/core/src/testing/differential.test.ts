import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzPlan } from './differential.js';
import { tempDir } from './index.js';
import { mulberry32 } from './random.js';
import { applyRandomEdits } from './random-edits.js';

describe('fuzzPlan', () => {
  it('runs the fixed seeds and steps when not fuzzing', () => {
    expect(fuzzPlan([1, 2], 4, {})).toEqual({ seeds: [1, 2], steps: 4 });
  });

  it('replays the one seed ORCHESTRATE_FUZZ_SEED names, with ORCHESTRATE_FUZZ_STEPS steps', () => {
    expect(fuzzPlan([1, 2], 4, { ORCHESTRATE_FUZZ_SEED: '77', ORCHESTRATE_FUZZ_STEPS: '9' })).toEqual({ seeds: [77], steps: 9 });
  });

  it('draws ORCHESTRATE_FUZZ_RUNS random seeds and doubles the steps when fuzzing', () => {
    const plan = fuzzPlan([1, 2], 4, { ORCHESTRATE_FUZZ: '1', ORCHESTRATE_FUZZ_RUNS: '3' });
    expect(plan.seeds).toHaveLength(3);
    expect(plan.steps).toBe(8);
  });

  it('rejects a value that is not a count, naming the variable', () => {
    expect(() => fuzzPlan([1], 4, { ORCHESTRATE_FUZZ_RUNS: 'many' })).toThrow(
      /ORCHESTRATE_FUZZ_RUNS must be a non-negative integer, not "many"/,
    );
  });
});

describe('applyRandomEdits', () => {
  async function tree(): Promise<string> {
    const root = await tempDir('orchestrate-edits-');
    await mkdir(join(root, 'src'));
    await writeFile(join(root, 'src/a.c'), 'int a(void) { return 1; }\n');
    await writeFile(join(root, 'data.txt'), '5\n');
    await symlink('a.c', join(root, 'src/link.c'));
    return root;
  }

  it('touches a file without changing its bytes', async () => {
    const root = await tree();
    const before = await lstat(join(root, 'src/a.c'), { bigint: true });
    const done = await applyRandomEdits({ root, rng: mulberry32(1), count: 1, kinds: ['touch'], editable: async () => ['src/a.c'] });
    expect(done).toEqual([{ kind: 'touch', path: 'src/a.c' }]);
    expect((await lstat(join(root, 'src/a.c'), { bigint: true })).mtimeNs).toBeGreaterThan(before.mtimeNs);
    expect(await readFile(join(root, 'src/a.c'), 'utf8')).toBe('int a(void) { return 1; }\n');
  });

  it('changes a number of a generated input', async () => {
    const root = await tree();
    const done = await applyRandomEdits({
      root,
      rng: mulberry32(2),
      count: 1,
      kinds: ['generated-input'],
      editable: async () => [],
      generatedInputs: async () => ['data.txt'],
    });
    expect(done).toEqual([{ kind: 'generated-input', path: 'data.txt' }]);
    expect(await readFile(join(root, 'data.txt'), 'utf8')).not.toBe('5\n');
  });

  it('records what the build-file callback did, and nothing when it could not', async () => {
    const root = await tree();
    const edit = { path: 'src/b.c', detail: 'added with its line' };
    const kinds = ['build-file'] as const;
    expect(
      await applyRandomEdits({ root, rng: mulberry32(3), count: 1, kinds, editable: async () => [], buildFile: async () => edit }),
    ).toEqual([{ kind: 'build-file', ...edit }]);
    expect(
      await applyRandomEdits({ root, rng: mulberry32(3), count: 1, kinds, editable: async () => [], buildFile: async () => undefined }),
    ).toEqual([]);
  });

  it('applies the edits after a move to the new root', async () => {
    const root = await tree();
    const moved = await tempDir('orchestrate-edits-moved-');
    await writeFile(join(moved, 'data.txt'), '5\n');
    const done = await applyRandomEdits({
      root,
      rng: mulberry32(4),
      count: 2,
      kinds: ['move', 'move'],
      editable: async () => [],
      move: async () => moved,
    });
    expect(done.map((e) => e.kind)).toEqual(['move', 'move']);
    const after = await applyRandomEdits({
      root: moved,
      rng: mulberry32(4),
      count: 1,
      kinds: ['generated-input'],
      editable: async () => [],
      generatedInputs: async () => ['data.txt'],
    });
    expect(after).toHaveLength(1);
    expect(await readFile(join(root, 'data.txt'), 'utf8')).toBe('5\n');
  });

  it('replaces a regular file by a link', async () => {
    const root = await tree();
    await applyRandomEdits({
      root,
      rng: mulberry32(5),
      count: 1,
      kinds: ['symlink'],
      editable: async () => [],
      links: async () => [{ link: 'data.txt', targets: ['src/a.c'] }],
    });
    expect(await readlink(join(root, 'data.txt'))).toBe('src/a.c');
  });
});
