/**
 * nix/default.nix with the CMake (Ninja) and Cargo plugins in real sandboxed
 * Nix builds, as nix.test.ts does with make: prepareCheckpointBuild of
 * version 1, mkCheckpointBuild of version 2 (one edited source), compared
 * byte for byte with a clean derivation of version 2, the compiled set
 * checked, and the reproducibility of the checkpoint outputs.
 *
 * The toolchains are the host's: cmake and ninja in /usr (the sandbox paths of
 * .ci/install-nix), cargo and rustc from rustup (/root/.cargo, /root/.rustup,
 * added read-only through extra-sandbox-paths). Their files are dated after
 * 2001, unlike the Nix store's: this is what found that a flat checkpoint must
 * not be replayed at the flat time itself (see flat-times.ts, times.ts).
 *
 * Without a usable sandboxed Nix, or without cmake/ninja/cargo, every test here
 * fails saying why, unless ORCHESTRATE_ALLOW_NO_NIX=1, which skips them.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@orchestrate/core/testing';

const CHECKOUT = resolve(import.meta.dirname, '../../..');
const FIXTURES = join(import.meta.dirname, 'nix');
const NODE = process.execPath;
const NONCE = randomBytes(8).toString('hex');
const RUSTUP_HOME = '/root/.rustup';
const CARGO_BIN = '/root/.cargo/bin';

interface NixRun {
  code: number;
  stdout: string;
  stderr: string;
  paths: string[];
}

function nix(args: readonly string[]): NixRun {
  const env = { ...process.env };
  delete env['NIX_REMOTE'];
  const result = spawnSync('nix-build', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stdout = result.stdout ?? '';
  return {
    code: result.status ?? -1,
    stdout,
    stderr: `${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`,
    paths: stdout.split('\n').filter((line) => line.startsWith('/nix/store/')),
  };
}

function unavailable(): string | undefined {
  for (const tool of ['nix-build', 'cmake', 'ninja', `${CARGO_BIN}/cargo`]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (nix-build: run .ci/install-nix as root)`;
  }
  const probe = `builtins.derivation { name = "orchestrate-sandbox-probe"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${NONCE} > $out" ]; }`;
  const run = nix(['--no-out-link', '--option', 'sandbox', 'true', '-E', probe]);
  if (run.code !== 0) return `a sandboxed Nix build fails on this machine: ${run.stderr.trim().split('\n').slice(-4).join(' | ')}`;
  return undefined;
}

const missing = unavailable();
const allowSkip = process.env['ORCHESTRATE_ALLOW_NO_NIX'] === '1';
if (missing && allowSkip) console.warn(`\n*** SKIPPING the Nix CMake/Cargo tests (ORCHESTRATE_ALLOW_NO_NIX=1): ${missing} ***\n`);

type Tree = Record<string, string>;

async function writeTree(dir: string, tree: Tree): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Every entry below `dir`: type, mode, and content hash or link target. */
function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const info = lstatSync(join(dir, path));
      if (info.isDirectory()) {
        out[path] = `dir ${(info.mode & 0o777).toString(8)}`;
        visit(path);
      } else if (info.isSymbolicLink()) out[path] = `link ${readlinkSync(join(dir, path))}`;
      else
        out[path] = `file ${(info.mode & 0o777).toString(8)} ${createHash('sha256')
          .update(readFileSync(join(dir, path)))
          .digest('hex')}`;
    }
  };
  visit('');
  return out;
}

/** The one manifest of a checkpoint output. */
function manifestOf(checkpoint: string): { state: Record<string, { blob?: string; mtimeNs: string }>; sources: Record<string, unknown> } {
  const dir = join(checkpoint, 'store/checkpoints');
  const file = readdirSync(dir, { recursive: true })
    .map(String)
    .find((p) => p.endsWith('.json'));
  if (!file) throw new Error(`no manifest in ${checkpoint}`);
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as ReturnType<typeof manifestOf>;
}

/** CMake, Ninja: a static library of two units and a program linking it. */
const CMAKE_V1: Tree = {
  'CMakeLists.txt': [
    'cmake_minimum_required(VERSION 3.16)',
    'project(cdemo C)',
    'add_library(calc STATIC src/calc.c src/scale.c)',
    'target_include_directories(calc PUBLIC include)',
    'add_executable(prog src/main.c)',
    'target_link_libraries(prog PRIVATE calc)',
    'install(TARGETS prog DESTINATION bin)',
    '',
  ].join('\n'),
  'orchestrate.config.json': '{ "plugins": [["@orchestrate/plugin-cmake", { "generator": "Ninja", "buildType": "Release" }]] }\n',
  'include/calc.h': 'int calc(int x);\nint scale(int x);\n',
  'src/calc.c': '#include "calc.h"\nint calc(int x) { return scale(x) + 1; }\n',
  'src/scale.c': '#include "calc.h"\nint scale(int x) { return x * 10; }\n',
  'src/main.c': '#include <stdio.h>\n#include "calc.h"\nint main(void) { printf("%d\\n", calc(4)); return 0; }\n',
};
const CMAKE_V2: Tree = { ...CMAKE_V1, 'src/scale.c': '#include "calc.h"\nint scale(int x) { return x * 11; }\n' };

/** Cargo: a workspace of two path libraries and a binary using both; no external crates. */
const CARGO_V1: Tree = {
  'Cargo.toml': [
    '[workspace]',
    'resolver = "2"',
    'members = ["crates/app", "crates/mathx", "crates/textx"]',
    '',
    '# No debuginfo, no incremental/ (its session directories are named by time): a reproducible target/.',
    '[profile.release]',
    'debug = 0',
    'incremental = false',
    'codegen-units = 1',
    '',
  ].join('\n'),
  'Cargo.lock': [
    '# This file is automatically @generated by Cargo.',
    '# It is not intended for manual editing.',
    'version = 4',
    '',
    '[[package]]',
    'name = "app"',
    'version = "0.1.0"',
    'dependencies = [',
    ' "mathx",',
    ' "textx",',
    ']',
    '',
    '[[package]]',
    'name = "mathx"',
    'version = "0.1.0"',
    '',
    '[[package]]',
    'name = "textx"',
    'version = "0.1.0"',
    '',
  ].join('\n'),
  'orchestrate.config.json': '{ "plugins": [["@orchestrate/plugin-cargo", { "profile": "release", "offline": true }]] }\n',
  'crates/mathx/Cargo.toml': '[package]\nname = "mathx"\nversion = "0.1.0"\nedition = "2021"\n',
  'crates/mathx/src/lib.rs': 'pub fn scale(x: i64) -> i64 { x * 10 }\n',
  'crates/textx/Cargo.toml': '[package]\nname = "textx"\nversion = "0.1.0"\nedition = "2021"\n',
  'crates/textx/src/lib.rs': 'pub fn label() -> &\'static str { "value" }\n',
  'crates/app/Cargo.toml':
    '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nmathx = { path = "../mathx" }\ntextx = { path = "../textx" }\n',
  'crates/app/src/main.rs': 'fn main() { println!("{} {}", textx::label(), mathx::scale(4) + 1); }\n',
};
const CARGO_V2: Tree = { ...CARGO_V1, 'crates/mathx/src/lib.rs': 'pub fn scale(x: i64) -> i64 { x * 11 }\n' };

/** ninja's `Building C object CMakeFiles/<t>.dir/<src>.o` lines: the sources compiled, sorted. */
function ninjaCompiled(log: string): string[] {
  return [...new Set([...log.matchAll(/Building C object CMakeFiles\/[^/]+\.dir\/(\S+)\.o/g)].map((m) => m[1] as string))].sort();
}

/** cargo -v's `Compiling <crate> v…` lines: the crates compiled, sorted. */
function cargoCompiled(log: string): string[] {
  return [...new Set([...log.matchAll(/Compiling (\S+) v\d/g)].map((m) => m[1] as string))].sort();
}

describe.skipIf(missing !== undefined && allowSkip)('nix/default.nix with CMake and Cargo in sandboxed Nix builds', () => {
  let file: string;
  const build = (attr: string, extra: readonly string[] = []): NixRun =>
    nix([
      file,
      '-A',
      attr,
      '--no-out-link',
      '--argstr',
      'nonce',
      NONCE,
      '--option',
      'sandbox',
      'true',
      '--option',
      'extra-sandbox-paths',
      `${CHECKOUT} ${CARGO_BIN.replace(/\/bin$/, '')} ${RUSTUP_HOME}`,
      ...extra,
    ]);
  const built = (attr: string, extra: readonly string[] = []): NixRun => {
    const run = build(attr, extra);
    expect(run.code, `nix-build -A ${attr} failed:\n${run.stderr.split('\n').slice(-30).join('\n')}`).toBe(0);
    return run;
  };

  beforeAll(async () => {
    if (missing) throw new Error(`${missing}\nSet ORCHESTRATE_ALLOW_NO_NIX=1 to skip the Nix tests on such a machine.`);
    const work = await tempDir('orchestrate-nix-cc-');
    await writeTree(join(work, 'cmake-v1'), CMAKE_V1);
    await writeTree(join(work, 'cmake-v2'), CMAKE_V2);
    await writeTree(join(work, 'cargo-v1'), CARGO_V1);
    await writeTree(join(work, 'cargo-v2'), CARGO_V2);
    file = join(work, 'test.nix');
    await writeFile(
      file,
      `# Generated by nix-cmake-cargo.test.ts.
{ nonce, again ? "" }:
let
  stdenv = import ${FIXTURES}/stdenv.nix { extraEnv = { orchestrateTestRun = nonce + again; }; };
  tools = import ${CHECKOUT}/nix { orchestrate = "${NODE} ${CHECKOUT}/packages/core/dist/bundle/cli/bin.cjs"; };
  src = step: builtins.path { path = ${work} + "/\${step}"; name = "source"; };
  # As nixpkgs' cmake setup hook does it: configure in configurePhase, then build and install.
  cmake = step: stdenv.mkDerivation {
    pname = "cdemo"; version = "1.0"; src = src step;
    configurePhase = "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release";
    buildPhase = "cmake --build build";
    installPhase = "cmake --install build --prefix $out";
  };
  cargo = step: stdenv.mkDerivation {
    pname = "rdemo"; version = "1.0"; src = src step;
    preConfigure = ''
      export CARGO_HOME=$TMPDIR/cargo-home RUSTUP_HOME=${RUSTUP_HOME} PATH=${CARGO_BIN}:$PATH
    '';
    buildPhase = "cargo build -v --offline --release --workspace";
    installPhase = "mkdir -p $out/bin && cp target/release/app $out/bin/app";
  };
in
rec {
  cmakeClean2 = cmake "cmake-v2";
  cmakeCkpt1 = tools.prepareCheckpointBuild (cmake "cmake-v1");
  cmakeInc2 = tools.mkCheckpointBuild (cmake "cmake-v2") cmakeCkpt1;
  cargoClean2 = cargo "cargo-v2";
  cargoCkpt1 = tools.prepareCheckpointBuild (cargo "cargo-v1");
  cargoInc2 = tools.mkCheckpointBuild (cargo "cargo-v2") cargoCkpt1;
}
`,
    );
  });

  it('CMake (Ninja): compiles exactly the edited unit, relinks, and installs what the clean build installs', () => {
    const prepare = built('cmakeCkpt1');
    expect(ninjaCompiled(prepare.stderr)).toEqual(['src/calc.c', 'src/main.c', 'src/scale.c']);
    const inc = built('cmakeInc2');
    expect(inc.stderr).toContain('restored checkpoint');
    // Not a re-configure (CMake's modules in /usr are newer than the flat time) and no other unit
    // (the deps log names /usr/include headers).
    expect(inc.stderr).not.toContain('Re-running CMake');
    expect(ninjaCompiled(inc.stderr)).toEqual(['src/scale.c']);
    expect(inc.stderr).toMatch(/Linking C static library libcalc\.a/);
    expect(inc.stderr).toMatch(/Linking C executable prog/);
    const out = inc.paths.find((p) => !p.endsWith('-checkpoint')) as string;
    expect(treeOf(out)).toEqual(treeOf(built('cmakeClean2').paths[0] as string));
    expect(spawnSync(join(out, 'bin/prog'), { encoding: 'utf8' }).stdout).toBe('45\n');
  });

  it("CMake (Ninja): checkpoints are reproducible except for ninja's two logs, which hold its clock and job order", () => {
    const first = built('cmakeCkpt1').paths[0] as string;
    const second = built('cmakeCkpt1', ['--argstr', 'again', '-2']).paths[0] as string;
    expect(second).not.toBe(first);
    const [a, b] = [manifestOf(first), manifestOf(second)];
    expect(b.sources).toEqual(a.sources);
    const differing = Object.keys(a.state).filter((path) => JSON.stringify(a.state[path]) !== JSON.stringify(b.state[path]));
    expect(Object.keys(b.state).sort()).toEqual(Object.keys(a.state).sort());
    // Every object, library, program and CMake file is the same blob with the same (flat) time; only
    // .ninja_log (start/end ms, the outputs' mtimes, lines in job order) and .ninja_deps (the
    // outputs' mtimes, records in job order) differ: nix-build --check fails on a Ninja checkpoint.
    expect(differing.filter((path) => path !== '.ninja_log' && path !== '.ninja_deps')).toEqual([]);
    for (const path of Object.keys(a.state)) expect(a.state[path]?.mtimeNs).toBe(b.state[path]?.mtimeNs);
    expect(build('cmakeCkpt1', ['--check']).code).not.toBe(0);
  });

  it('Cargo: compiles exactly the edited crate and its dependent, and installs what the clean build installs', () => {
    const prepare = built('cargoCkpt1');
    expect(cargoCompiled(prepare.stderr)).toEqual(['app', 'mathx', 'textx']);
    const inc = built('cargoInc2');
    expect(inc.stderr).toContain('restored checkpoint');
    expect(cargoCompiled(inc.stderr)).toEqual(['app', 'mathx']);
    expect(inc.stderr).toMatch(/Fresh textx v0\.1\.0/);
    const out = inc.paths.find((p) => !p.endsWith('-checkpoint')) as string;
    expect(treeOf(out)).toEqual(treeOf(built('cargoClean2').paths[0] as string));
    expect(spawnSync(join(out, 'bin/app'), { encoding: 'utf8' }).stdout).toBe('value 45\n');
  });

  it('Cargo: nix-build --check passes on prepareCheckpointBuild and on both outputs of mkCheckpointBuild', () => {
    for (const attr of ['cargoCkpt1', 'cargoInc2']) {
      built(attr);
      const run = build(attr, ['--check']);
      expect(run.code, `nix-build -A ${attr} --check:\n${run.stderr.split('\n').slice(-15).join('\n')}`).toBe(0);
    }
    expect(existsSync('/homeless-shelter')).toBe(false);
  });
});
