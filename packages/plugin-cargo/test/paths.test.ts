/**
 * The core's path rule with cargo on examples/cargo-hello (dev profile, debug
 * info): at another path the crates' outputs name the old checkout and are
 * left out; with `relocatable: true` nothing is, an edit of the binary's
 * source compiles that unit only, and the binary equals a clean build's with
 * the same option at yet another path.
 */
import { execa } from 'execa';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOrchestrate, tempDir, leftOutNamingOldPath } from '@orchestrate/core/testing';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/cargo-hello');

async function checkout(dir: string, options: Record<string, unknown>): Promise<string> {
  await cp(EXAMPLE, dir, { recursive: true, filter: (src) => !/\/target$/.test(src) });
  await writeFile(
    join(dir, 'orchestrate.config.json'),
    JSON.stringify({ name: 'paths-cargo', plugins: [['@orchestrate/plugin-cargo', options]] }),
  );
  await execa('git', ['init', '-q'], { cwd: dir });
  await execa('git', ['add', '-A'], { cwd: dir });
  await execa('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'init'], { cwd: dir });
  return dir;
}

async function editMain(dir: string): Promise<void> {
  const file = join(dir, 'crates/hello-cli/src/main.rs');
  await writeFile(file, `${await readFile(file, 'utf8')}\n// edited\n`);
}

const pathEntries = leftOutNamingOldPath;
const ENV = { CARGO_TERM_COLOR: 'never' };

describe('cargo outputs at another path', () => {
  it('are left out when they name the old checkout, and the report says so', async () => {
    const root = await tempDir('orchestrate-paths-cargo-');
    const store = join(root, 'store');
    const a = await checkout(join(root, 'A', 'hello'), {});
    const first = await runOrchestrate(['build'], { cwd: a, store, env: ENV });
    expect(first.exitCode, first.stderr).toBe(0);
    const b = await checkout(join(root, 'B', 'hello'), {});
    const run = await runOrchestrate(['build', '--no-save'], { cwd: b, store, env: ENV });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'incremental', unitsRebuilt: 5 });
    const reasons = pathEntries(run.report).map((item) => item.reason);
    expect(reasons).toContain(
      `names the old path '${a}' (the plugin option 'relocatable: true' makes the build's outputs path-independent)`,
    );
  });

  it("with 'relocatable: true' restore in full, an edit compiles its unit only, and the binary equals a clean build's", async () => {
    const root = await tempDir('orchestrate-paths-cargo-reloc-');
    const store = join(root, 'store');
    const a = await checkout(join(root, 'A', 'hello'), { relocatable: true });
    const first = await runOrchestrate(['build'], { cwd: a, store, env: ENV });
    expect(first.exitCode, first.stderr).toBe(0);

    const b = await checkout(join(root, 'B', 'hello'), { relocatable: true });
    await editMain(b);
    const run = await runOrchestrate(['build', '--no-save'], { cwd: b, store, env: ENV });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'incremental', unitsRebuilt: 1, unitsTotal: 5 });
    expect(pathEntries(run.report)).toEqual([]);

    // A clean build at a third path with the option (an empty store): the same binary.
    const c = await checkout(join(root, 'C', 'elsewhere'), { relocatable: true });
    await editMain(c);
    const clean = await runOrchestrate(['build', '--no-save'], { cwd: c, store: join(root, 'empty-store'), env: ENV });
    expect(clean.report).toMatchObject({ mode: 'full' });
    const binary = 'target/debug/hello';
    expect((await readFile(join(b, binary))).equals(await readFile(join(c, binary)))).toBe(true);
    expect((await readFile(join(b, binary))).includes(b)).toBe(false);
  });
});
