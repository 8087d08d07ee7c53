/**
 * The relocation experiment as a test, with real cargo on examples/cargo-hello:
 * build in one directory, restore into a fresh checkout at another absolute path
 * (sources newly written, target dir copied with exact ns mtimes, recorded source
 * mtimes replayed), repair what the research says, and read cargo's own verdict.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRootOccurrences, parseRootOutput, rewriteRoot } from '../src/build-output.js';
import { encodeDepInfo, parseDepInfo, relocateDepInfo } from '../src/dep-info.js';
import { linkFingerprintUnits, listFingerprintUnits, listProfileDirs } from '../src/fingerprint-files.js';
import { cargoConfigFiles, cargoHome } from '../src/fingerprint.js';
import { readCargoDirs, resolveTargetDir, tryPredictBuildDir } from '../src/target-dir.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/cargo-hello', import.meta.url));
const ALL_CRATES = ['hello-cli', 'hello-core', 'hello-gen', 'hello-leaf', 'hello-macros'];

let tmp: string;
beforeAll(async () => {
  await execa('cargo', ['--version']).catch((error: unknown) => {
    throw new Error('cargo is required for the plugin-cargo integration tests', { cause: error });
  });
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'cargo-reloc-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

/** A fresh checkout: every source newly written (new mtimes), no target dir. */
async function checkout(dest: string): Promise<void> {
  await fsp.cp(EXAMPLE, dest, { recursive: true, filter: (src) => path.basename(src) !== 'target' });
}

async function walk(root: string, skipTarget: boolean): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const e of await fsp.readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        if (!(skipTarget && rel === '' && e.name === 'target')) await visit(r);
      } else if (e.isFile()) out.push(r);
    }
  };
  await visit('');
  return out.sort();
}

const mtimeNs = (file: string): bigint => fs.statSync(file, { bigint: true }).mtimeNs;

/** `touch -d @<sec>.<nsec9>`: Node's utimes is only microsecond-precise. */
async function setMtimeNs(files: string[], ns: bigint): Promise<void> {
  if (files.length === 0) return;
  const stamp = `@${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
  await execa('touch', ['-m', '-d', stamp, '--', ...files]);
}

/** Records every source file's mtime (relative path → ns). */
async function recordSourceMtimes(root: string): Promise<Map<string, bigint>> {
  const map = new Map<string, bigint>();
  for (const rel of await walk(root, true)) map.set(rel, mtimeNs(path.join(root, rel)));
  return map;
}

async function replaySourceMtimes(root: string, recorded: Map<string, bigint>): Promise<void> {
  const byTime = new Map<bigint, string[]>();
  for (const [rel, ns] of recorded) byTime.set(ns, [...(byTime.get(ns) ?? []), path.join(root, rel)]);
  for (const [ns, files] of byTime) await setMtimeNs(files, ns);
}

/** Rewrites `from` → `to` in a file, keeping its exact mtime. */
async function rewriteKeepingMtime(file: string, transform: (b: Buffer) => Buffer | undefined): Promise<boolean> {
  const before = mtimeNs(file);
  const next = transform(await fsp.readFile(file));
  if (next === undefined) return false;
  await fsp.writeFile(file, next);
  await setMtimeNs([file], before);
  return true;
}

/**
 * The repairs the research calls for, after the target dir has been copied:
 * old-root paths in build-script `output`/`root-output`, and absolute old-root
 * entries in binary dep-info files. Returns the files changed.
 */
async function relocateTarget(targetDir: string, from: string, to: string): Promise<string[]> {
  const changed: string[] = [];
  for (const profile of await listProfileDirs(targetDir)) {
    const buildDir = path.join(profile, 'build');
    for (const unit of fs.existsSync(buildDir) ? await fsp.readdir(buildDir) : []) {
      for (const name of ['output', 'root-output']) {
        const file = path.join(buildDir, unit, name);
        if (!fs.existsSync(file)) continue;
        const done = await rewriteKeepingMtime(file, (b) => {
          const r = rewriteRoot(b.toString('utf8'), from, to);
          return r.count > 0 ? Buffer.from(r.text) : undefined;
        });
        if (done) changed.push(path.relative(targetDir, file));
      }
    }
    for (const unit of await listFingerprintUnits(profile)) {
      if (unit.depInfoFile === undefined) continue;
      const done = await rewriteKeepingMtime(unit.depInfoFile, (b) => {
        const r = relocateDepInfo(parseDepInfo(b), from, to);
        return r.rewritten > 0 ? Buffer.from(encodeDepInfo(r.info)) : undefined;
      });
      if (done) changed.push(path.relative(targetDir, unit.depInfoFile));
    }
  }
  return changed;
}

interface CargoRun {
  readonly stderr: string;
  /** Package names of `Compiling <name> v…` lines. */
  readonly compiled: string[];
  /** Number of `Running \`…rustc …\`` lines. */
  readonly rustcRuns: number;
  /** Number of build-script executions. */
  readonly scriptRuns: number;
  /** `Dirty <name> …: <reason>` lines. */
  readonly dirty: string[];
}

async function cargo(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CargoRun> {
  const { stderr } = await execa('cargo', args, { cwd, env: { CARGO_TERM_COLOR: 'never', ...env } });
  const lines = stderr.split('\n');
  return {
    stderr,
    compiled: lines.flatMap((l) => /^\s+Compiling (\S+) v/.exec(l)?.[1] ?? []).sort(),
    rustcRuns: lines.filter((l) => /^\s+Running `\S*rustc /.test(l)).length,
    scriptRuns: lines.filter((l) => /^\s+Running `\S*\/build-script-build`/.test(l)).length,
    dirty: lines.filter((l) => /^\s+Dirty /.test(l)).map((l) => l.trim()),
  };
}

/** Builds a checkout at `<tmp>/<name>/a` and returns it with its recorded source mtimes. */
async function buildOriginal(
  name: string,
  patch?: (root: string) => Promise<void>,
): Promise<{ root: string; sources: Map<string, bigint> }> {
  const root = path.join(tmp, name, 'a');
  await checkout(root);
  if (patch) await patch(root);
  await cargo(root, ['build']);
  await cargo(root, ['test', '--no-run']);
  return { root, sources: await recordSourceMtimes(root) };
}

/** Restores `original` into `<tmp>/<name>/<dir>`: fresh checkout, `cp -a` target, replayed mtimes. */
async function restore(
  original: { root: string; sources: Map<string, bigint> },
  dest: string,
  options: { replay?: boolean; relocate?: boolean; patch?: (root: string) => Promise<void> } = {},
): Promise<string[]> {
  await fsp.rm(dest, { recursive: true, force: true });
  await checkout(dest);
  if (options.patch) await options.patch(dest);
  await execa('cp', ['-a', path.join(original.root, 'target'), path.join(dest, 'target')]);
  if (options.replay ?? true) await replaySourceMtimes(dest, original.sources);
  return (options.relocate ?? true) ? relocateTarget(path.join(dest, 'target'), original.root, dest) : [];
}

/** The newest mtime anywhere in a checkout, target dir included. */
async function newestMtime(root: string): Promise<bigint> {
  let max = 0n;
  for (const rel of await walk(root, false)) {
    const ns = mtimeNs(path.join(root, rel));
    if (ns > max) max = ns;
  }
  return max;
}

describe('cargo-hello relocated with exact mtimes', () => {
  let original: { root: string; sources: Map<string, bigint> };
  beforeAll(async () => {
    original = await buildOriginal('plain');
  });

  it('finds the target and build dirs through cargo metadata', async () => {
    const { CARGO_TARGET_DIR: _ignored, ...env } = process.env;
    expect(await resolveTargetDir(original.root, { env })).toEqual({
      targetDir: path.join(original.root, 'target'),
      source: 'metadata',
    });
    expect(await resolveTargetDir(original.root, { env: { CARGO_TARGET_DIR: 'out/t' } })).toEqual({
      targetDir: path.join(original.root, 'out/t'),
      source: 'env',
    });
    const dirs = await readCargoDirs(original.root, { env });
    expect(dirs.buildDir).toBe(dirs.targetDir);
    await expect(readCargoDirs(original.root, { env: { ...env, CARGO_TARGET_DIR: '' } })).rejects.toThrow(
      /cargo metadata failed in ".*": error: the target directory is set to an empty string/,
    );
    expect(dirs.workspaceRoot).toBe(original.root);
  });

  it('predicts the build dir cargo metadata reports, and declines where configuration could move it', async () => {
    const { CARGO_TARGET_DIR: _ignored, ...env } = process.env;
    const root = path.join(tmp, 'predict', 'w');
    await checkout(root);
    const files = (): string[] => cargoConfigFiles(root, cargoHome(env, root));
    expect(tryPredictBuildDir(root, env, files())).toBe((await readCargoDirs(root, { env })).buildDir);

    // Each of these moves it, and each is declined (cargo's own answer differs from <root>/target).
    const cases: [string, Record<string, string | undefined>, (() => Promise<void>) | undefined][] = [
      ['CARGO_TARGET_DIR', { ...env, CARGO_TARGET_DIR: 'elsewhere' }, undefined],
      ['CARGO_BUILD_BUILD_DIR', { ...env, CARGO_BUILD_BUILD_DIR: 'b' }, undefined],
      [
        'build.target-dir',
        env,
        () =>
          fsp
            .mkdir(path.join(root, '.cargo'), { recursive: true })
            .then(() => fsp.writeFile(path.join(root, '.cargo/config.toml'), '[build]\ntarget-dir = "t2"\n')),
      ],
    ];
    for (const [label, caseEnv, setUp] of cases) {
      await setUp?.();
      expect(tryPredictBuildDir(root, caseEnv, files()), label).toBeUndefined();
      expect((await readCargoDirs(root, { env: caseEnv })).buildDir, label).not.toBe(path.join(root, 'target'));
    }
    // A member's directory is not the workspace root: cargo looks further up.
    expect(tryPredictBuildDir(path.join(root, 'crates/hello-leaf'), env, files())).toBeUndefined();
  });

  it('reads every real dep-info file and re-encodes it byte for byte', async () => {
    const units = await listFingerprintUnits(path.join(original.root, 'target/debug'));
    const withDepInfo = units.filter((u) => u.depInfoFile !== undefined);
    expect(withDepInfo.length).toBeGreaterThan(10);
    for (const unit of withDepInfo) {
      const bytes = await fsp.readFile(unit.depInfoFile!);
      const info = parseDepInfo(bytes);
      expect(info.format).toBe('v1');
      expect(Buffer.from(encodeDepInfo(info)).equals(bytes)).toBe(true);
      // Everything in this workspace is stored relative: no absolute path to rewrite.
      expect(info.files.every((f) => !f.path.startsWith('/'))).toBe(true);
    }
    const gen = withDepInfo.find((u) => u.packageName === 'hello-gen' && u.kind === 'lib');
    const genInfo = parseDepInfo(await fsp.readFile(gen!.depInfoFile!));
    // The order of the entries is rustc's and varies between builds; the set does not.
    const byType = [...genInfo.files].sort((a, b) => (a.type < b.type ? -1 : 1));
    expect(byType.map((f) => f.type)).toEqual(['build-root-relative', 'package-root-relative']);
    expect(byType[0]?.path).toMatch(/^debug\/build\/hello-gen-[0-9a-f]{16}\/out\/greeting\.rs$/);
  });

  it('maps units to packages and links them by fingerprint hash', async () => {
    const units = await listFingerprintUnits(path.join(original.root, 'target/debug'));
    expect([...new Set(units.map((u) => u.packageName))].sort()).toEqual(ALL_CRATES);
    const kinds = new Set(units.map((u) => `${u.packageName}:${u.kind}:${u.targetName}`));
    for (const k of [
      'hello-gen:build-script:build-script-build',
      'hello-gen:run-build-script:build-script-build',
      'hello-cli:bin:hello',
      'hello-cli:test:cli',
      'hello-macros:lib:hello_macros',
    ]) {
      expect(kinds).toContain(k);
    }
    const graph = linkFingerprintUnits(units);
    const bin = units.find((u) => u.kind === 'bin')!;
    expect(
      graph
        .get(bin)!
        .map((u) => u.packageName)
        .sort(),
    ).toEqual(ALL_CRATES);
    const genLib = units.find((u) => u.packageName === 'hello-gen' && u.kind === 'lib' && graph.get(u)!.length > 1)!;
    expect(
      graph
        .get(genLib)!
        .map((u) => `${u.packageName}:${u.kind}`)
        .sort(),
    ).toEqual(['hello-core:lib', 'hello-gen:run-build-script']);
  });

  it('holds the old root only where the research says', async () => {
    const target = path.join(original.root, 'target');
    const output = await fsp.readFile(path.join(target, 'debug/build', (await genRunDir(target))!, 'output'), 'utf8');
    expect(findRootOccurrences(output, original.root)).toEqual([]);
    const rootOutput = parseRootOutput(
      await fsp.readFile(path.join(target, 'debug/build', (await genRunDir(target))!, 'root-output'), 'utf8'),
    );
    expect(rootOutput.startsWith(`${target}/debug/build/hello-gen-`)).toBe(true);
  });

  it('is entirely fresh after a move when mtimes are replayed', async () => {
    const dest = path.join(tmp, 'plain', 'b');
    const changed = await restore(original, dest);
    expect(changed.map((f) => path.basename(f))).toEqual(['root-output']);
    const build = await cargo(dest, ['build', '-v']);
    expect(build.compiled).toEqual([]);
    expect(build.rustcRuns).toBe(0);
    expect(build.scriptRuns).toBe(0);
    expect(build.stderr.match(/^\s+Fresh /gm)).toHaveLength(5);
    const test = await cargo(dest, ['test', '--no-run', '-v']);
    expect(test.compiled).toEqual([]);
    expect(test.rustcRuns).toBe(0);
  });

  it('is also fresh without any repair: cp -a alone suffices for this workspace', async () => {
    const dest = path.join(tmp, 'plain', 'c');
    await restore(original, dest, { relocate: false });
    const build = await cargo(dest, ['build', '-v']);
    expect(build.compiled).toEqual([]);
    expect(build.rustcRuns + build.scriptRuns).toBe(0);
  });

  it('rebuilds everything when the source mtimes are not replayed (control)', async () => {
    const dest = path.join(tmp, 'plain', 'd');
    await restore(original, dest, { replay: false });
    const build = await cargo(dest, ['build', '-v']);
    expect(build.compiled).toEqual(ALL_CRATES);
  });

  it('recompiles exactly a changed leaf and its dependents, without rerunning the build script', async () => {
    const dest = path.join(tmp, 'plain', 'e');
    await restore(original, dest);
    const leaf = path.join(dest, 'crates/hello-leaf/src/lib.rs');
    await fsp.writeFile(leaf, (await fsp.readFile(leaf, 'utf8')).replace('"!"', '"?"'));
    await setMtimeNs([leaf], (await newestMtime(dest)) + 1_000_000_000n);
    const build = await cargo(dest, ['build', '-v']);
    expect(build.compiled).toEqual(['hello-cli', 'hello-core', 'hello-gen', 'hello-leaf']);
    expect(build.scriptRuns).toBe(0);
    expect(build.dirty[0]).toMatch(/Dirty hello-leaf .*the file `crates\/hello-leaf\/src\/lib.rs` has changed/);
    const { stdout } = await execa(path.join(dest, 'target/debug/hello'));
    expect(stdout).toBe('Hello, world? (Hello?)');
  });

  it('reruns the build script when its watched data file changes', async () => {
    const dest = path.join(tmp, 'plain', 'f');
    await restore(original, dest);
    const data = path.join(dest, 'crates/hello-gen/data/greeting.txt');
    await fsp.writeFile(data, 'Howdy\n');
    await setMtimeNs([data], (await newestMtime(dest)) + 1_000_000_000n);
    const build = await cargo(dest, ['build', '-v']);
    expect(build.scriptRuns).toBe(1);
    expect(build.compiled).toEqual(['hello-cli', 'hello-gen']);
    expect((await execa(path.join(dest, 'target/debug/hello'))).stdout).toBe('Howdy, world! (Hello!)');
  });
});

async function genRunDir(target: string): Promise<string | undefined> {
  const dirs = await fsp.readdir(path.join(target, 'debug/build'));
  return dirs.find((d) => fs.existsSync(path.join(target, 'debug/build', d, 'output')));
}

describe('absolute paths that need the relocation repairs', () => {
  const absoluteRerun = async (root: string): Promise<void> => {
    const file = path.join(root, 'crates/hello-gen/build.rs');
    const src = await fsp.readFile(file, 'utf8');
    await fsp.writeFile(
      file,
      src.replace(
        'println!("cargo:rerun-if-changed=data/greeting.txt");',
        'println!("cargo:rerun-if-changed={}/data/greeting.txt", env::var("CARGO_MANIFEST_DIR").unwrap());',
      ),
    );
  };

  it('an absolute rerun-if-changed reruns the script after a move unless output is rewritten', async () => {
    const original = await buildOriginal('abs-rerun', absoluteRerun);
    const target = path.join(original.root, 'target');
    const output = await fsp.readFile(path.join(target, 'debug/build', (await genRunDir(target))!, 'output'), 'utf8');
    expect(findRootOccurrences(output, original.root).map((h) => h.directive?.key)).toEqual(['rerun-if-changed']);

    const raw = path.join(tmp, 'abs-rerun', 'raw');
    await restore(original, raw, { relocate: false, patch: absoluteRerun });
    const rawBuild = await cargo(raw, ['build', '-v']);
    expect(rawBuild.scriptRuns).toBe(1);
    expect(rawBuild.dirty.join('\n')).toMatch(/hello-gen .*the rerun-if-changed instructions changed/);

    const fixed = path.join(tmp, 'abs-rerun', 'fixed');
    const changed = await restore(original, fixed, { patch: absoluteRerun });
    expect(changed.map((f) => path.basename(f)).sort()).toEqual(['output', 'root-output']);
    const build = await cargo(fixed, ['build', '-v']);
    expect(build.compiled).toEqual([]);
    expect(build.scriptRuns + build.rustcRuns).toBe(0);
  });

  const includeWorkspaceFile = async (root: string): Promise<void> => {
    const file = path.join(root, 'crates/hello-core/src/lib.rs');
    await fsp.appendFile(
      file,
      '\n/// The workspace README, outside this package.\npub const README: &str = include_str!("../../../README.md");\n',
    );
  };

  it('a workspace file outside the package is stored absolute and goes silently stale unless rewritten', async () => {
    const original = await buildOriginal('abs-include', includeWorkspaceFile);
    const core = (await listFingerprintUnits(path.join(original.root, 'target/debug'))).find(
      (u) => u.packageName === 'hello-core' && u.kind === 'lib' && u.depInfoFile !== undefined,
    )!;
    const info = parseDepInfo(await fsp.readFile(core.depInfoFile!));
    // Stored as rustc_cwd joined with rustc's relative path: absolute, not normalized.
    expect(info.files).toContainEqual({
      type: 'build-root-relative',
      path: `${original.root}/crates/hello-core/src/../../../README.md`,
    });

    // Unrepaired, with the old tree still present: an edit of the new README is not seen.
    const raw = path.join(tmp, 'abs-include', 'raw');
    await restore(original, raw, { relocate: false, patch: includeWorkspaceFile });
    await fsp.appendFile(path.join(raw, 'README.md'), '\nedited\n');
    await setMtimeNs([path.join(raw, 'README.md')], (await newestMtime(raw)) + 1_000_000_000n);
    expect((await cargo(raw, ['build', '-v'])).compiled).toEqual([]); // stale!

    // Repaired: fresh when unchanged, and the edit recompiles hello-core and its dependents.
    const fixed = path.join(tmp, 'abs-include', 'fixed');
    const changed = await restore(original, fixed, { patch: includeWorkspaceFile });
    expect(changed.filter((f) => f.includes('.fingerprint')).length).toBeGreaterThan(0);
    expect((await cargo(fixed, ['build', '-v'])).rustcRuns).toBe(0);
    await fsp.appendFile(path.join(fixed, 'README.md'), '\nedited\n');
    await setMtimeNs([path.join(fixed, 'README.md')], (await newestMtime(fixed)) + 1_000_000_000n);
    expect((await cargo(fixed, ['build', '-v'])).compiled).toEqual(['hello-cli', 'hello-core', 'hello-gen']);
  });
});
