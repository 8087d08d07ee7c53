/**
 * Differential tests for Cargo: a generated workspace without external crates
 * (a library whose build.rs reads data/values.txt and emits a const, a
 * proc-macro crate on `proc_macro` alone, a path-dependency library with a
 * module that is sometimes a link, a binary using all three) takes seeded
 * random edits step after step (bodies, a module added or removed with its
 * `pub mod` line, a workspace member added or removed with its `members`
 * line, renames, the build script's input, an executable bit, a module
 * replaced by a link, mtimes, a move to another path). Each step is built by
 * orchestrate from the latest rolling checkpoint and from clean with plain
 * `cargo build --release` at the same path; the binary, the rlibs and the
 * proc-macro library must be equal byte for byte, and the binary must print
 * the same. The release profile: no debuginfo, no incremental compilation;
 * every working copy's path is remapped to one name (`--remap-path-prefix`).
 *
 * The fixed seeds run in CI; `pnpm test:fuzz` runs random ones and
 * `ORCHESTRATE_FUZZ_SEED=<seed> pnpm test:fuzz` replays one (see README.md).
 */
import { execa } from 'execa';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzPlan, listTree, runDifferential, tempDir, type DifferentialEdits, type EditKind } from '@orchestrate/core/testing';

const KINDS: EditKind[] = [
  'modify',
  'modify',
  'touch',
  'build-file',
  'build-file',
  'rename',
  'generated-input',
  'generated-input',
  'chmod',
  'symlink',
  'old-mtime',
  'reset-mtimes',
  'move',
];
/** Where the workspace lists its members and util's lib.rs its modules; build-file edits add and remove lines above them. */
const MEMBERS_END = '    # members end';
const MODULES_END = '// modules end';

const FILES: Record<string, string> = {
  'Cargo.toml': `[workspace]
resolver = "2"
members = [
    "crates/gen",
    "crates/derive",
    "crates/util",
    "crates/app",
${MEMBERS_END}
]
`,
  'crates/gen/Cargo.toml': '[package]\nname = "gen"\nversion = "0.1.0"\nedition = "2021"\n',
  'crates/gen/build.rs': `//! Sums the numbers of data/values.txt into \`$OUT_DIR/values.rs\`.
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=data/values.txt");
    let text = fs::read_to_string("data/values.txt").expect("read data/values.txt");
    let total: i64 = text.split_whitespace().map(|w| w.parse::<i64>().expect("a number")).sum();
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("values.rs"), format!("pub const TOTAL: i64 = {total};\\n")).expect("write values.rs");
}
`,
  'crates/gen/data/values.txt': '1\n2\n3\n',
  'crates/gen/src/lib.rs': 'include!(concat!(env!("OUT_DIR"), "/values.rs"));\n\npub fn scaled() -> i64 {\n    TOTAL * 10\n}\n',
  'crates/derive/Cargo.toml': '[package]\nname = "derive"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\nproc-macro = true\n',
  'crates/derive/src/lib.rs': `//! \`#[derive(Describe)]\`: \`fn describe() -> (&'static str, i64)\`, the type's name and a number.
use proc_macro::{TokenStream, TokenTree};

#[proc_macro_derive(Describe)]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    let mut name = String::new();
    let mut next_is_name = false;
    for token in input {
        if let TokenTree::Ident(ident) = token {
            let word = ident.to_string();
            if next_is_name {
                name = word;
                break;
            }
            next_is_name = word == "struct";
        }
    }
    format!("impl {name} {{ pub fn describe() -> (&'static str, i64) {{ (\\"{name}\\", 7) }} }}")
        .parse()
        .expect("generated code parses")
}
`,
  'crates/util/Cargo.toml': '[package]\nname = "util"\nversion = "0.1.0"\nedition = "2021"\n',
  'crates/util/src/lib.rs': `pub mod level;
${MODULES_END}

pub fn base() -> i64 {
    40 + level::LEVEL
}
`,
  'crates/util/src/level.rs': 'pub const LEVEL: i64 = 1;\n',
  'crates/util/src/level_a.rs': 'pub const LEVEL: i64 = 2;\n',
  'crates/util/src/level_b.rs': 'pub const LEVEL: i64 = 3;\n',
  'crates/app/Cargo.toml':
    '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\ngen = { path = "../gen" }\nderive = { path = "../derive" }\nutil = { path = "../util" }\n',
  'crates/app/src/main.rs': `use derive::Describe;

#[derive(Describe)]
struct Widget;

fn main() {
    let (name, number) = Widget::describe();
    println!("{} {} {} {}", name, number, util::base(), gen::scaled() + 5);
}
`,
};

async function writeProject(dir: string): Promise<void> {
  for (const [path, content] of Object.entries(FILES)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await writeFile(
    join(dir, 'orchestrate.config.json'),
    `${JSON.stringify({ plugins: [['@orchestrate/plugin-cargo', { profile: 'release' }]] })}\n`,
  );
  // The lock file a user commits: no build writes it afterwards unless the members change.
  await execa('cargo', ['generate-lockfile', '--offline'], { cwd: dir, env: ENV, stdin: 'ignore' });
}

const ENV = { CARGO_TERM_COLOR: 'never' };
const isSource = (path: string): boolean => path !== 'target' && !path.startsWith('target/');

async function filesIn(root: string, dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const names = await readdir(join(root, dir)).catch(() => [] as string[]);
  return names
    .filter(keep)
    .map((n) => `${dir}/${n}`)
    .sort();
}

/** Replaces `from` by `to` in a file, failing when `from` is absent. */
async function replaceIn(file: string, from: string, to: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
  await writeFile(file, text.replace(from, to));
}

const moduleName = (path: string): string => path.slice(path.lastIndexOf('/') + 1, -'.rs'.length);

function cargoEdits(root: string): DifferentialEdits {
  const util = 'crates/util/src';
  const modules = (): Promise<string[]> => filesIn(root, util, (n) => /^(r\d+_)*extra_\d+\.rs$/.test(n));
  const libRs = join(root, util, 'lib.rs');
  return {
    editable: async () => [
      'crates/app/src/main.rs',
      'crates/derive/src/lib.rs',
      'crates/gen/src/lib.rs',
      ...(await filesIn(root, util, (n) => n.endsWith('.rs') && n !== 'level.rs')),
    ],
    renamable: modules,
    renameTo: (path, n) => `${util}/r${n}_${moduleName(path)}.rs`,
    renamed: (from, to) => replaceIn(libRs, `pub mod ${moduleName(from)};\n`, `pub mod ${moduleName(to)};\n`),
    buildFile: async (rng) => {
      const id = rng.int(100_000);
      if (rng.int(4) === 0) {
        // A workspace member: a crate nothing depends on, listed in `members` (Cargo.lock follows in both builds).
        const members = await filesIn(root, 'crates', (n) => /^extra_\d+$/.test(n));
        if (members.length > 0 && rng.int(2) === 0) {
          const path = rng.pick(members);
          await rm(join(root, path), { recursive: true });
          await replaceIn(join(root, 'Cargo.toml'), `    "${path}",\n`, '');
          return { path, detail: 'member removed with its line' };
        }
        const path = `crates/extra_${id}`;
        await mkdir(join(root, path, 'src'), { recursive: true });
        await writeFile(join(root, path, 'Cargo.toml'), `[package]\nname = "extra_${id}"\nversion = "0.1.0"\nedition = "2021"\n`);
        await writeFile(join(root, path, 'src/lib.rs'), `pub fn value() -> i64 {\n    ${rng.int(1000)}\n}\n`);
        await replaceIn(join(root, 'Cargo.toml'), `${MEMBERS_END}\n`, `    "${path}",\n${MEMBERS_END}\n`);
        return { path, detail: 'member added with its line' };
      }
      const existing = await modules();
      if (existing.length > 0 && rng.int(3) === 0) {
        const path = rng.pick(existing);
        await rm(join(root, path));
        await replaceIn(libRs, `pub mod ${moduleName(path)};\n`, '');
        return { path, detail: 'module removed with its declaration' };
      }
      const path = `${util}/extra_${id}.rs`;
      await writeFile(join(root, path), `pub fn value() -> i64 {\n    ${rng.int(1000)}\n}\n`);
      await replaceIn(libRs, `${MODULES_END}\n`, `pub mod extra_${id};\n${MODULES_END}\n`);
      return { path, detail: 'module added with its declaration' };
    },
    generatedInputs: async () => ['crates/gen/data/values.txt'],
    modeFlippable: async () => ['crates/gen/data/values.txt', 'crates/app/src/main.rs'],
    links: async () => [{ link: `${util}/level.rs`, targets: ['level_a.rs', 'level_b.rs'] }],
    all: async () => listTree(root, isSource),
  };
}

async function cleanBuild(dir: string, env: Record<string, string>): Promise<boolean> {
  const result = await execa('cargo', ['build', '--release'], { cwd: dir, env, stdin: 'ignore', reject: false });
  return result.exitCode === 0;
}

/** What cargo puts in target/release/ for the user: the binary, the rlibs and the proc-macro library. */
async function outputs(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, 'target/release')).catch(() => [] as string[]);
  return names.filter((n) => n === 'app' || /^lib\w+\.(rlib|so)$/.test(n)).map((n) => `target/release/${n}`);
}

// The fixed seeds cover every kind. 28 found a stale crate: a link retargeted from one module file to another
// (level.rs → level_b.rs, then → level_a.rs) left util stale, because cargo's fingerprint records the link's
// resolved target (level_b.rs), which the restore left with its old time; the restore now dates a changed
// link's old target too (random seed 1827289087 at 2 steps found the same).
const plan = fuzzPlan([21, 22, 24, 26, 28], 5);

describe('differential (cargo): random edits, checkpoint build versus clean build', () => {
  it.each(plan.seeds)('seed %i', async (seed) => {
    const project = join(await tempDir('orchestrate-cargo-fuzz-'), 'fuzz-cargo');
    await writeProject(project);
    const steps = await runDifferential({
      project,
      seed,
      steps: plan.steps,
      kinds: KINDS,
      edits: cargoEdits,
      isSource,
      cleanBuild,
      outputs,
      // A removed member's rlib stays in a warm target directory, as cargo leaves it.
      mayOutlive: (path) => /^target\/release\/libextra_\d+\.rlib$/.test(path),
      programs: [{ path: 'target/release/app' }],
      // rustc records its working directory in every rlib and dylib: mapped to one name for every tree
      // the run may use, they do not depend on it. (Without this, crates cargo finds Fresh after a move keep
      // the old path, as the plugin's README says: the binary is equal, the rlibs are not.)
      env: (trees) => ({ ...ENV, RUSTFLAGS: trees.map((t) => `--remap-path-prefix=${t}=/fuzz`).join(' ') }),
      replay: 'pnpm test:fuzz packages/plugin-cargo/test/differential.test.ts',
    });
    expect(steps.filter((s) => s.built).length).toBeGreaterThan(0);
    await rm(join(project, '..'), { recursive: true, force: true });
  });
});
