/**
 * `orchestrate explain` with real cargo on examples/cargo-hello: a checkpoint
 * from copy A, one edited crate in copy B at another path. Cargo has no dry
 * run, so explain builds in its scratch copy; the crates it predicts, with
 * cargo's Dirty reasons, must be exactly those the build in B then compiles
 * (a RUSTC_WRAPPER's log), and B and the store are left as they were.
 */
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listTree, runOrchestrate, scenarioHarness, tempDir } from '@orchestrate/core/testing';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/cargo-hello');

const logDir = await tempDir('orchestrate-rustc-');
const rustcLog = join(logDir, 'rustc.log');
const wrapper = join(logDir, 'rustc-wrapper');
await writeFile(
  wrapper,
  `#!/bin/sh
# RUSTC_WRAPPER: logs "<crate name> <crate type>" of each compilation (not cargo's probes), then runs rustc.
name=""; kind=""; prev=""
for a in "$@"; do
  case "$prev" in
    --crate-name) name="$a" ;;
    --crate-type) kind="$a" ;;
  esac
  prev="$a"
done
if [ -n "$name" ] && [ "$name" != "___" ] && [ -n "$ORCHESTRATE_TEST_RUSTC_LOG" ]; then
  printf '%s %s\\n' "$name" "\${kind:-bin}" >> "$ORCHESTRATE_TEST_RUSTC_LOG"
fi
exec "$@"
`,
);
await chmod(wrapper, 0o755);
const env = { RUSTC_WRAPPER: wrapper, ORCHESTRATE_TEST_RUSTC_LOG: rustcLog, CARGO_TERM_COLOR: 'never' };
const units = async (): Promise<string[]> => (await readFile(rustcLog, 'utf8').catch(() => '')).split('\n').filter(Boolean).sort();
const resetUnits = (): Promise<void> => rm(rustcLog, { force: true });
const h = scenarioHarness({ project: EXAMPLE, env, cleanBuild: async () => undefined, resetUnits, units });

describe('orchestrate explain (cargo-hello)', () => {
  beforeAll(async () => {
    const { run } = await h.prepare();
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('predicts the edited crate and its dependents, as the build that follows compiles them', async () => {
    const dir = await h.freshCopy('edit-leaf', async (d) => {
      const file = join(d, 'crates/hello-leaf/src/lib.rs');
      await writeFile(file, (await readFile(file, 'utf8')).replace('"!"', '"?"'));
    });
    const before = { tree: await listTree(dir), store: await listTree(h.store) };
    const explain = await runOrchestrate(['explain'], { cwd: dir, store: h.store, env });
    expect(explain.exitCode, explain.stderr).toBe(0);
    expect({ tree: await listTree(dir), store: await listTree(h.store) }).toEqual(before);
    const report = explain.report ?? {};
    expect(report['mode']).toBe('incremental');
    const predicted = report['units'] as { unit: string; causes: { kind: string; path?: string; unit?: string }[] }[];
    const leaf = predicted.find((u) => u.unit === 'hello_leaf (lib)');
    expect(leaf?.causes).toContainEqual({ kind: 'changed', path: 'crates/hello-leaf/src/lib.rs' });
    expect(predicted.length).toBeGreaterThan(1);
    expect(report['warnings']).toEqual([]);

    await resetUnits();
    const build = await runOrchestrate(['build', '--no-save'], { cwd: dir, store: h.store, env });
    expect(build.exitCode, build.stderr).toBe(0);
    const asLogged = predicted.map((u) => u.unit.replace(/^(\S+) \((\S+)\)$/, '$1 $2')).sort();
    expect(asLogged).toEqual(await units());
  });
});
