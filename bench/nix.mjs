#!/usr/bin/env node
// orchestrate as Nix derivations (nix/default.nix) against a clean derivation
// and against the seed's mechanism (nixpkgs' checkpointBuildTools, re-stated in
// packages/core/test/nix/seed-checkpoint-build.nix), on the generated many-unit
// project (examples/gen-many) and Lua 5.4 (bench/fetch.sh):
//
//   pnpm build && node bench/nix.mjs [--only many,lua] [--units N] [--json]
//
// Needs a sandboxed single-user Nix (.ci/install-nix). For each project, with a
// per-run nonce so nothing comes from an earlier run's store paths:
//   clean        the project built in full (stand-in stdenv, the project's own make)
//   prepare      prepareCheckpointBuild of the original sources (not timed in the table's ratio)
//   orchestrate  mkCheckpointBuild after a one-file edit, from prepare's checkpoint
//   seed         the seed's mkCheckpointBuild after the same edit, from its own prepare
// Each row: wall time of nix-build for that one derivation (its inputs built
// before), whether its output equals the clean build's, and the bytes its
// checkpoint output adds to the Nix store (orchestrate: prepare's output and the
// rolling `checkpoint` output; seed: its prepare output; the seed makes no rolling one).
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { benchDir, formatTable, repoRoot, srcDir } from './native.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const only = option('--only', 'many,lua').split(',');
const units = Number(option('--units', '200'));
const json = args.includes('--json');
const nonce = randomBytes(8).toString('hex');
const fixtures = join(repoRoot, 'packages/core/test/nix');
const work = join(benchDir, '.work', 'nix', nonce);
mkdirSync(work, { recursive: true });
const env = { ...process.env };
delete env.NIX_REMOTE;

function sh(command, argv, options = {}) {
  const r = spawnSync(command, argv, { encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024, ...options });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

if (sh('sh', ['-c', 'command -v nix-build']).code !== 0) {
  console.error('bench/nix.mjs: nix-build not found; run .ci/install-nix as root');
  process.exit(1);
}

const projects = [];
if (only.includes('many')) {
  const dir = join(work, 'many-0');
  sh(process.execPath, [join(repoRoot, 'examples/gen-many/generate.mjs'), dir, String(units)]);
  writeFileSync(join(dir, 'orchestrate.config.json'), '{ "plugins": ["@orchestrate/plugin-make"] }\n');
  projects.push({
    id: 'many',
    title: `generated make project, ${units} units`,
    dir,
    edit: 'src/unit_042.c',
    build: 'make -j$NIX_BUILD_CORES',
    install: 'mkdir -p $out/bin && cp many $out/bin/',
  });
}
if (only.includes('lua')) {
  if (!existsSync(join(srcDir, 'lua-upstream'))) {
    const fetched = sh('bash', [join(benchDir, 'fetch.sh')], { stdio: 'inherit' });
    if (fetched.code !== 0) console.error('bench/nix.mjs: bench/fetch.sh failed; Lua is left out');
  }
  if (existsSync(join(srcDir, 'lua-upstream'))) {
    const dir = join(work, 'lua-0');
    cpSync(join(srcDir, 'lua-upstream') + '/', dir, { recursive: true });
    writeFileSync(join(dir, 'orchestrate.config.json'), '{ "plugins": [["@orchestrate/plugin-make", { "targets": ["linux"] }]] }\n');
    projects.push({
      id: 'lua',
      title: "Lua 5.4, make (Lua's Makefile, in-source)",
      dir,
      edit: 'src/lstrlib.c',
      build: 'make -j$NIX_BUILD_CORES linux',
      install: 'mkdir -p $out/bin && cp src/lua src/luac $out/bin/',
    });
  }
}

const bytesOf = (path) => {
  const info = lstatSync(path);
  return info.isDirectory() ? readdirSync(path).reduce((n, name) => n + bytesOf(join(path, name)), 0) : info.size;
};
const digestOf = (path) => {
  const hash = createHash('sha256');
  const visit = (rel) => {
    const abs = join(path, rel);
    const info = lstatSync(abs);
    hash.update(`${rel}\0${info.mode}\0`);
    if (info.isDirectory()) for (const name of readdirSync(abs).sort()) visit(join(rel, name));
    else hash.update(readFileSync(abs));
  };
  visit('');
  return hash.digest('hex');
};

const rows = [];
for (const p of projects) {
  const edited = join(work, `${p.id}-1`);
  cpSync(p.dir + '/', edited, { recursive: true });
  appendFileSync(join(edited, p.edit), '\n/* bench edit 1 */\n');
  const file = join(work, `${p.id}.nix`);
  writeFileSync(
    file,
    `{ nonce }:
let
  stdenv = import ${fixtures}/stdenv.nix { extraEnv = { orchestrateBenchRun = nonce; NIX_BUILD_CORES = "2"; }; };
  tools = import ${repoRoot}/nix { orchestrate = "${process.execPath} ${repoRoot}/packages/core/dist/bundle/cli/bin.cjs"; };
  seed = import ${fixtures}/seed-checkpoint-build.nix { };
  project = dir: stdenv.mkDerivation {
    pname = "bench-${p.id}"; version = "1";
    src = builtins.path { path = ${JSON.stringify(work)} + "/\${dir}"; name = "source"; };
    buildPhase = "runHook preBuild; ${p.build}; runHook postBuild";
    installPhase = "runHook preInstall; ${p.install}; runHook postInstall";
  };
in rec {
  clean = project "${p.id}-1";
  prepare = tools.prepareCheckpointBuild (project "${p.id}-0");
  orchestrate = tools.mkCheckpointBuild (project "${p.id}-1") prepare;
  seedPrepare = seed.prepareCheckpointBuild (project "${p.id}-0");
  seedBuild = seed.mkCheckpointBuild (project "${p.id}-1") seedPrepare;
}
`,
  );
  const nixBuild = (attr) => {
    const t0 = performance.now();
    const r = sh('nix-build', [file, '-A', attr, '--no-out-link', '--argstr', 'nonce', nonce, '--option', 'extra-sandbox-paths', repoRoot]);
    const ms = Math.round(performance.now() - t0);
    if (r.code !== 0) {
      console.error(`bench/nix.mjs: nix-build -A ${attr} failed:\n${r.stderr.trim().split('\n').slice(-8).join('\n')}`);
      return { ms, path: undefined, log: r.stderr };
    }
    return { ms, path: r.stdout.trim().split('\n').pop(), log: r.stderr };
  };
  const clean = nixBuild('clean');
  const prepare = nixBuild('prepare');
  const seedPrepare = nixBuild('seedPrepare');
  const inc = nixBuild('orchestrate');
  const checkpoint = nixBuild('orchestrate.checkpoint');
  const seedInc = nixBuild('seedBuild');
  const same = (run) => (run.path === undefined ? 'build fails' : digestOf(run.path) === digestOf(clean.path) ? 'yes' : 'NO');
  rows.push(
    { project: p.id, derivation: 'clean', ms: clean.ms, equal: 'yes', checkpointBytes: '' },
    {
      project: p.id,
      derivation: 'prepareCheckpointBuild',
      ms: prepare.ms,
      equal: '',
      checkpointBytes: prepare.path ? bytesOf(prepare.path) : '',
    },
    {
      project: p.id,
      derivation: 'mkCheckpointBuild (1 edit)',
      ms: inc.ms,
      equal: same(inc),
      checkpointBytes: checkpoint.path ? bytesOf(checkpoint.path) : '',
    },
    {
      project: p.id,
      derivation: 'seed prepareCheckpointBuild',
      ms: seedPrepare.ms,
      equal: '',
      checkpointBytes: seedPrepare.path ? bytesOf(seedPrepare.path) : '',
    },
    { project: p.id, derivation: 'seed mkCheckpointBuild (1 edit)', ms: seedInc.ms, equal: same(seedInc), checkpointBytes: '' },
  );
}

if (json) console.log(JSON.stringify({ nonce, rows }));
else {
  console.log(`Nix derivations (nix-build wall time, one derivation each; nonce ${nonce})`);
  console.log(
    formatTable(
      ['project', 'derivation', 'ms', 'output = clean', 'checkpoint bytes added'],
      rows.map((r) => [r.project, r.derivation, String(r.ms), r.equal, String(r.checkpointBytes)]),
    ),
  );
}
if (!args.includes('--keep')) rmSync(work, { recursive: true, force: true });
