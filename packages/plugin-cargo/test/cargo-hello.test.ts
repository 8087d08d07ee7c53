/**
 * The scenario matrix on examples/cargo-hello with real cargo and rustc: a
 * checkpoint from copy A, then in a fresh copy B at another absolute path one
 * change and `orchestrate build`; copy C builds the same change from clean
 * with plain `cargo build`. The binary must behave as C's, and the rustc
 * invocations must be exactly those the change requires, read from a
 * RUSTC_WRAPPER that logs every compiled crate (the same wrapper path in A, B
 * and C, since the wrapper is part of the fingerprint).
 */
import { execa } from 'execa';
import { appendFile, chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { programOutput, scenarioHarness, tempDir, type ScenarioResult } from '@orchestrate/core/testing';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/cargo-hello');

/** Every rustc invocation of a full build: `<crate name> <crate type>`. */
const ALL_UNITS = [
  'build_script_build bin',
  'hello bin',
  'hello_cli lib',
  'hello_core lib',
  'hello_gen lib',
  'hello_leaf lib',
  'hello_macros proc-macro',
];

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
  [ "$a" = "--test" ] && kind="test"
  prev="$a"
done
if [ -n "$name" ] && [ "$name" != "___" ] && [ -n "$ORCHESTRATE_TEST_RUSTC_LOG" ]; then
  printf '%s %s\\n' "$name" "$kind" >> "$ORCHESTRATE_TEST_RUSTC_LOG"
fi
exec "$@"
`,
);
await chmod(wrapper, 0o755);

const ENV = { RUSTC_WRAPPER: wrapper, ORCHESTRATE_TEST_RUSTC_LOG: rustcLog, CARGO_TERM_COLOR: 'never' };

const units = async (): Promise<string[]> => {
  const text = await readFile(rustcLog, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).sort();
};
const resetUnits = (): Promise<void> => rm(rustcLog, { force: true });

/** Plain `cargo build`, with the features the copy's orchestrate config asks for. */
async function cleanCargo(dir: string, env: Record<string, string>): Promise<void> {
  const config = JSON.parse(await readFile(join(dir, 'orchestrate.config.json'), 'utf8')) as { plugins: unknown[] };
  const entry = config.plugins[0];
  const features = Array.isArray(entry) ? ((entry[1] as { features?: string[] }).features ?? []) : [];
  await execa('cargo', ['build', ...(features.length > 0 ? ['--features', features.join(',')] : [])], { cwd: dir, env, stdin: 'ignore' });
}

function cargoHarness(env: Record<string, string> = {}) {
  return scenarioHarness({ project: EXAMPLE, env: { ...ENV, ...env }, cleanBuild: cleanCargo, resetUnits, units });
}

const replace =
  (file: string, from: string, to: string) =>
  async (dir: string): Promise<void> => {
    const path = join(dir, file);
    const text = await readFile(path, 'utf8');
    if (!text.includes(from)) throw new Error(`'${from}' not in ${file}`);
    await writeFile(path, text.replace(from, to));
  };
const both =
  (...changes: ((dir: string) => Promise<void>)[]) =>
  async (dir: string): Promise<void> => {
    for (const change of changes) await change(dir);
  };

/** The build-script state directory of hello-gen (the one with `output`), relative to the target dir. */
async function genOutput(targetDir: string): Promise<string> {
  const build = join(targetDir, 'debug/build');
  for (const name of await readdir(build)) {
    if (name.startsWith('hello-gen-') && (await stat(join(build, name, 'output')).catch(() => undefined)))
      return join(build, name, 'output');
  }
  throw new Error(`no hello-gen build script output under ${build}`);
}

/** Runs a scenario and reports whether hello-gen's build script ran in B (its `output` is newer than the scenario's start). */
async function runScenario(
  h: ReturnType<typeof cargoHarness>,
  label: string,
  scenario: Parameters<ReturnType<typeof cargoHarness>['run']>[1] = {},
  targetDir = (dir: string): string => join(dir, 'target'),
): Promise<ScenarioResult & { scriptRan: boolean; rustcProbed: boolean }> {
  const started = BigInt(Date.now()) * 1_000_000n;
  const result = await h.run(label, scenario);
  expect(result.run.exitCode, result.run.stderr).toBe(0);
  const output = await genOutput(targetDir(result.b));
  const scriptRan = (await stat(output, { bigint: true })).mtimeNs >= started;
  // Cargo rewrites its rustc cache when it had to ask rustc again (`rustc -vV`, the target probes).
  const cache = await stat(join(targetDir(result.b), '.rustc_info.json'), { bigint: true }).catch(() => undefined);
  const rustcProbed = cache === undefined || cache.mtimeNs >= started;
  return { ...result, scriptRan, rustcProbed };
}

async function expectSameBehaviour(
  result: ScenarioResult,
  bin = (dir: string): string => join(dir, 'target/debug/hello'),
): Promise<string> {
  const b = await programOutput(bin(result.b), result.b);
  expect(b).toBe(await programOutput(bin(result.c), result.c));
  expect(await programOutput(bin(result.b), result.b, ['orchestrate'])).toBe(await programOutput(bin(result.c), result.c, ['orchestrate']));
  return b;
}

describe('cargo-hello checkpoint builds', () => {
  const h = cargoHarness();

  beforeAll(async () => {
    const { run } = await h.prepare();
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'full', restored: null });
    expect(run.report?.['saved']).toMatch(/^[0-9a-f]{64}$/);
    expect(await units()).toEqual(ALL_UNITS);
  });

  it('is Fresh for every unit at another path when nothing changed', async () => {
    const result = await runScenario(h, 'none', { env: { ORCHESTRATE_DEBUG: 'cargo' } });
    expect(result.run.report).toMatchObject({ mode: 'incremental', reason: null });
    expect(result.units).toEqual([]);
    expect(result.scriptRan).toBe(false);
    // The restored rustc cache is valid for this rustc: cargo does not run rustc to learn about it.
    expect(result.rustcProbed).toBe(false);
    expect(result.run.stderr).not.toMatch(/output\(s\) of \d+ unit\(s\) that cargo compiles again/);
    expect(await expectSameBehaviour(result)).toBe('0\nHello, world! (Hello!)');
  });

  it('recompiles a crate nothing depends on, and the binary', async () => {
    const result = await runScenario(h, 'edit-top', {
      change: replace('crates/hello-cli/src/lib.rs', 'format!("{} ({}{})"', 'format!("{} [{}{}]"'),
    });
    expect(result.units).toEqual(['hello bin', 'hello_cli lib']);
    expect(result.scriptRan).toBe(false);
    expect(await expectSameBehaviour(result)).toBe('0\nHello, world! [Hello!]');
  });

  it('recompiles the leaf crate and everything that depends on it, without rerunning the build script', async () => {
    const result = await runScenario(h, 'edit-leaf', {
      change: replace('crates/hello-leaf/src/lib.rs', '"!"', '"?"'),
      env: { ORCHESTRATE_DEBUG: 'cargo' },
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['crates/hello-leaf/src/lib.rs'] } });
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_core lib', 'hello_gen lib', 'hello_leaf lib']);
    expect(result.scriptRan).toBe(false);
    // The rlib and rmeta of the four libraries and the binary are written by rustc anyway: not restored.
    expect(result.run.stderr).toMatch(/not restoring 9 output\(s\) of 5 unit\(s\) that cargo compiles again/);
    expect(result.rustcProbed).toBe(false);
    expect(await expectSameBehaviour(result)).toBe('0\nHello, world? (Hello?)');
  });

  it('recompiles a crate others depend on and its dependents only', async () => {
    const result = await runScenario(h, 'edit-core', {
      change: replace('crates/hello-core/src/lib.rs', '"{}, {}"', '"{}; {}"'),
    });
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_core lib', 'hello_gen lib']);
    expect(result.scriptRan).toBe(false);
    expect(await expectSameBehaviour(result)).toBe('0\nHello; world! (Hello!)');
  });

  it('recompiles the dependents of the proc-macro crate when it changed', async () => {
    const result = await runScenario(h, 'edit-macro', {
      change: replace('crates/hello-macros/src/lib.rs', '\\"{name}\\"', '\\"<{name}>\\"'),
    });
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_core lib', 'hello_gen lib', 'hello_macros proc-macro']);
    expect(result.scriptRan).toBe(false);
    expect(await expectSameBehaviour(result)).toBe('0\nHello, world! (<Hello>!)');
  });

  it('reruns the build script when the file it watches changed, and recompiles its crate and dependents', async () => {
    const result = await runScenario(h, 'edit-watched', {
      change: async (dir) => writeFile(join(dir, 'crates/hello-gen/data/greeting.txt'), 'Howdy\n'),
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['crates/hello-gen/data/greeting.txt'] } });
    expect(result.scriptRan).toBe(true);
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_gen lib']);
    expect(await expectSameBehaviour(result)).toBe('0\nHowdy, world! (Hello!)');
  });

  it('reruns the build script when the variable it watches changed', async () => {
    const result = await runScenario(h, 'env-watched', { env: { HELLO_GREETING: 'Hi' } });
    expect(result.run.report).toMatchObject({ mode: 'incremental' });
    expect(result.scriptRan).toBe(true);
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_gen lib']);
    expect(await expectSameBehaviour(result)).toBe('0\nHi, world! (Hello!)');
  });

  it('recompiles the crate that gained a module, and its dependents', async () => {
    const result = await runScenario(h, 'add-module', {
      change: both(
        async (dir) => writeFile(join(dir, 'crates/hello-core/src/extra.rs'), 'pub fn suffix() -> &\'static str {\n    "!!"\n}\n'),
        replace('crates/hello-core/src/lib.rs', 'pub mod style;', 'pub mod extra;\npub mod style;'),
        replace('crates/hello-core/src/lib.rs', 'style::apply(text, ', 'style::apply(text + extra::suffix(), '),
      ),
    });
    expect(result.run.report).toMatchObject({
      mode: 'incremental',
      changes: { added: ['crates/hello-core/src/extra.rs'], modified: ['crates/hello-core/src/lib.rs'] },
    });
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_core lib', 'hello_gen lib']);
    expect(await expectSameBehaviour(result)).toBe('0\nHello, world!!! (Hello!)');
  });

  it('recompiles the crate that lost a module, and its dependents', async () => {
    const result = await runScenario(h, 'remove-module', {
      change: both(
        async (dir) => rm(join(dir, 'crates/hello-core/src/style.rs')),
        replace('crates/hello-core/src/lib.rs', 'pub mod style;\n', ''),
        replace('crates/hello-core/src/lib.rs', 'style::apply(text, cfg!(feature = "shout"))', 'text'),
      ),
    });
    expect(result.run.report).toMatchObject({
      mode: 'incremental',
      changes: { removed: ['crates/hello-core/src/style.rs'], modified: ['crates/hello-core/src/lib.rs'] },
    });
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_core lib', 'hello_gen lib']);
    expect(await expectSameBehaviour(result)).toBe('0\nHello, world! (Hello!)');
  });

  it('leaves a feature enabled in a manifest to cargo: exactly the crates whose features changed, and their dependents', async () => {
    const result = await runScenario(h, 'manifest-feature', {
      change: replace('crates/hello-cli/Cargo.toml', 'default = []', 'default = ["shout"]'),
    });
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['crates/hello-cli/Cargo.toml'] } });
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_core lib', 'hello_gen lib']);
    expect(result.scriptRan).toBe(false);
    expect(await expectSameBehaviour(result)).toBe('0\nHELLO, WORLD! (Hello!)');
  });

  it('builds in full, naming the entry, when the features the plugin builds with changed', async () => {
    const result = await runScenario(h, 'plugin-feature', {
      change: async (dir) =>
        writeFile(
          join(dir, 'orchestrate.config.json'),
          JSON.stringify({ plugins: [['@orchestrate/plugin-cargo', { relocatable: true, features: ['hello-cli/shout'] }]] }),
        ),
    });
    expect(result.run.report?.['mode']).toBe('full');
    expect(result.run.report?.['reason']).toMatch(/cargo\.features changed/);
    expect(result.units).toEqual(ALL_UNITS);
    expect(await expectSameBehaviour(result)).toBe('0\nHELLO, WORLD! (Hello!)');
  });

  it('builds in full, naming the entry, when RUSTFLAGS changed', async () => {
    const result = await runScenario(h, 'rustflags', { env: { RUSTFLAGS: '-C opt-level=1' } });
    expect(result.run.report?.['mode']).toBe('full');
    expect(result.run.report?.['reason']).toMatch(/env\.RUSTFLAGS changed \('' → '-C opt-level=1'\)/);
    expect(result.units).toEqual(ALL_UNITS);
    expect(result.scriptRan).toBe(true);
    await expectSameBehaviour(result);
  });

  it('saves a checkpoint at one path that is Fresh again at a third path', async () => {
    const edited = await runScenario(h, 'save-moved', {
      change: replace('crates/hello-leaf/src/lib.rs', '"!"', '"?"'),
      save: true,
      clean: false,
    });
    expect(edited.run.report?.['saved']).toMatch(/^[0-9a-f]{64}$/);
    const again = await runScenario(h, 'restore-moved', { change: replace('crates/hello-leaf/src/lib.rs', '"!"', '"?"') });
    expect(again.run.report).toMatchObject({ mode: 'incremental', restored: edited.run.report?.['saved'] });
    expect(again.units).toEqual([]);
    expect(again.scriptRan).toBe(false);
    expect(await expectSameBehaviour(again)).toBe('0\nHello, world? (Hello?)');
  });
});

describe('cargo-hello with a target directory outside the workspace', () => {
  // Relative to each copy, so every copy has its own: <root>/<NN-label>/target-out.
  const h = cargoHarness({ CARGO_TARGET_DIR: '../target-out' });
  const target = (dir: string): string => join(dir, '../target-out');

  beforeAll(async () => {
    const { run } = await h.prepare();
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('is Fresh at another path and reruns the build script when its input changed', async () => {
    const none = await runScenario(h, 'none', { clean: false }, target);
    expect(none.run.report).toMatchObject({ mode: 'incremental' });
    expect(none.units).toEqual([]);
    expect(none.scriptRan).toBe(false);
    const root = await readFile(join(await genOutput(target(none.b)), '../root-output'), 'utf8');
    expect(resolve(root).startsWith(resolve(target(none.b)))).toBe(true);

    const edited = await runScenario(
      h,
      'edit-watched',
      { change: async (dir) => writeFile(join(dir, 'crates/hello-gen/data/greeting.txt'), 'Hey\n') },
      target,
    );
    expect(edited.scriptRan).toBe(true);
    expect(edited.units).toEqual(['hello bin', 'hello_cli lib', 'hello_gen lib']);
    expect(await expectSameBehaviour(edited, (dir) => join(target(dir), 'debug/hello'))).toBe('0\nHey, world! (Hello!)');
  });
});

describe('cargo-hello whose build script and sources name absolute paths', () => {
  // build.rs watches its input by absolute path; hello-core includes a workspace file outside its package
  // (dep-info stores that one absolute); both are freshness information, rewritten after a move.
  const absolute = both(
    replace(
      'crates/hello-gen/build.rs',
      'println!("cargo:rerun-if-changed=data/greeting.txt");',
      'println!("cargo:rerun-if-changed={}/data/greeting.txt", env::var("CARGO_MANIFEST_DIR").unwrap());',
    ),
    async (dir) =>
      appendFile(
        join(dir, 'crates/hello-core/src/lib.rs'),
        '\n/// The workspace README.\npub const README: &str = include_str!("../../../README.md");\n',
      ),
  );
  const h = cargoHarness();

  beforeAll(async () => {
    const { run } = await h.prepare(absolute);
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('is Fresh at another path: the old root is rewritten in output and dep-info', async () => {
    const result = await runScenario(h, 'none', { change: absolute });
    expect(result.units).toEqual([]);
    expect(result.scriptRan).toBe(false);
    const output = await readFile(await genOutput(join(result.b, 'target')), 'utf8');
    expect(output).toContain(`cargo:rerun-if-changed=${result.b}/crates/hello-gen/data/greeting.txt`);
    await expectSameBehaviour(result);
  });

  it('sees an edit of the included file outside the package in the new tree, though the old tree is still there', async () => {
    const result = await runScenario(h, 'edit-readme', {
      change: both(absolute, async (dir) => appendFile(join(dir, 'README.md'), '\nedited\n')),
    });
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_core lib', 'hello_gen lib']);
    expect(result.scriptRan).toBe(false);
  });

  it('reruns the build script when the file it watches by absolute path changed', async () => {
    const result = await runScenario(h, 'edit-watched', {
      change: both(absolute, async (dir) => writeFile(join(dir, 'crates/hello-gen/data/greeting.txt'), 'Ahoy\n')),
    });
    expect(result.scriptRan).toBe(true);
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_gen lib']);
    expect(await expectSameBehaviour(result)).toBe('0\nAhoy, world! (Hello!)');
  });
});

describe('cargo-hello whose build script hands an absolute path to the compiler', () => {
  // The path is compiled into hello-gen: rewriting output would leave the old path in the restored rlib,
  // so exactly this script runs again after a move, and its dependents recompile.
  const bakesPath = both(
    replace(
      'crates/hello-gen/build.rs',
      'println!("cargo::rustc-env=HELLO_GEN_BUILT=1");',
      'println!("cargo::rustc-env=HELLO_GEN_DIR={}", env::var("CARGO_MANIFEST_DIR").unwrap());',
    ),
    replace(
      'crates/hello-cli/src/main.rs',
      'println!("{}", hello_cli::line(&name));',
      'println!("{}", hello_cli::line(&name));\n    println!("{}", hello_gen::DIR);',
    ),
    async (dir) =>
      appendFile(
        join(dir, 'crates/hello-gen/src/lib.rs'),
        '\n/// Where the crate was built.\npub const DIR: &str = env!("HELLO_GEN_DIR");\n',
      ),
  );
  const h = cargoHarness();

  beforeAll(async () => {
    const { run } = await h.prepare(bakesPath);
    expect(run.exitCode, run.stderr).toBe(0);
  });

  it('reruns exactly that build script after a move and recompiles its dependents', async () => {
    const result = await runScenario(h, 'moved', { change: bakesPath });
    expect(result.run.report).toMatchObject({ mode: 'incremental' });
    expect(result.scriptRan).toBe(true);
    expect(result.units).toEqual(['hello bin', 'hello_cli lib', 'hello_gen lib']);
    const out = await programOutput(join(result.b, 'target/debug/hello'), result.b);
    expect(out).toBe(`0\nHello, world! (Hello!)\n${result.b}/crates/hello-gen`);
    const clean = await programOutput(join(result.c, 'target/debug/hello'), result.c);
    expect(out.replaceAll(result.b, '<dir>')).toBe(clean.replaceAll(result.c, '<dir>'));
  });
});
