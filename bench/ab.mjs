#!/usr/bin/env node
// orchestrate at another revision (A) against the working tree's build (B),
// alternating run by run on the same projects, so a change is measured under
// the same machine noise as its baseline:
//
//   node bench/ab.mjs --rev <git revision> [--only lua,cmark-ninja,cmark-make,rust-app] [--runs N]
//
// Needs `pnpm build` and the pristine repositories that `node bench/run.mjs`
// leaves in bench/.work/run/<id>/pristine. The revision is checked out as a
// git worktree in bench/.work/ab/<rev>/ (its node_modules are links to this
// checkout's, its @orchestrate packages its own) and built there. For each
// project: one store per side, seeded by a full build; then, per run, the
// native warm tree gets a one-line edit and is built, and each side (in
// alternating order) builds a fresh clone at a new path with its own
// one-line edit, `orchestrate build --json` timed as a process. The clones
// (in the system's temporary directory) are removed after each run. Prints medians and ratios to the native build.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchDir, formatTable, repoRoot } from './native.mjs';

const projects = {
  lua: { edit: 'src/lstrlib.c', comment: (tag) => `/* ab ${tag} */`, build: ['make', ['-j2', 'linux']] },
  'cmark-ninja': {
    edit: 'src/inlines.c',
    comment: (tag) => `/* ab ${tag} */`,
    configure: ['cmake', ['-S', '.', '-B', 'build', '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release']],
    build: ['cmake', ['--build', 'build', '-j', '2']],
  },
  'cmark-make': {
    edit: 'src/inlines.c',
    comment: (tag) => `/* ab ${tag} */`,
    configure: ['cmake', ['-S', '.', '-B', 'build', '-G', 'Unix Makefiles', '-DCMAKE_BUILD_TYPE=Release']],
    build: ['cmake', ['--build', 'build', '-j', '2']],
  },
  'rust-app': { edit: 'src/parse.rs', comment: (tag) => `// ab ${tag}`, build: ['cargo', ['build', '--offline', '-j', '2']] },
};

function sh(cmd, args, cwd) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} in ${cwd} failed (${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`,
    );
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, stdout: r.stdout };
}

function parseArgs(argv) {
  const opts = { rev: undefined, only: Object.keys(projects), runs: 6 };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    if (argv[i] === '--rev') opts.rev = value();
    else if (argv[i] === '--only') opts.only = value().split(',');
    else if (argv[i] === '--runs') opts.runs = Number(value());
    else throw new Error(`unknown argument ${argv[i]}; usage: node bench/ab.mjs --rev <revision> [--only ids] [--runs N]`);
  }
  if (!opts.rev) throw new Error('--rev <git revision> is required');
  for (const id of opts.only) if (!projects[id]) throw new Error(`unknown project ${id}; known: ${Object.keys(projects).join(', ')}`);
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  return opts;
}

/** Links `from`'s entries into `to` (a real directory), except those named in `skip`. */
function linkEntries(from, to, skip = new Set()) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    if (skip.has(name)) continue;
    const source = join(from, name);
    const target = lstatSync(source).isSymbolicLink() ? resolve(from, readlinkSync(source)) : source;
    symlinkSync(target, join(to, name));
  }
}

/** The revision checked out and built in bench/.work/ab/<commit>/; returns its CLI. */
function buildRevision(rev, log) {
  const commit = sh('git', ['rev-parse', '--verify', `${rev}^{commit}`], repoRoot).stdout.trim();
  const dir = join(benchDir, '.work', 'ab', commit.slice(0, 12));
  const cli = join(dir, 'packages/core/dist/bundle/cli/bin.cjs');
  if (existsSync(cli)) return { commit, cli };
  log(`building ${commit.slice(0, 12)} in ${dir}`);
  spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: repoRoot });
  rmSync(dir, { recursive: true, force: true });
  sh('git', ['worktree', 'add', '--detach', dir, commit], repoRoot);
  // Dependencies from this checkout; the workspace's own packages from the revision.
  linkEntries(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), new Set(['@orchestrate']));
  const packages = readdirSync(join(dir, 'packages'));
  mkdirSync(join(dir, 'node_modules/@orchestrate'), { recursive: true });
  for (const p of packages) {
    symlinkSync(join(dir, 'packages', p), join(dir, 'node_modules/@orchestrate', p));
    const own = join(repoRoot, 'packages', p, 'node_modules');
    if (!existsSync(own)) continue;
    linkEntries(own, join(dir, 'packages', p, 'node_modules'), new Set(['@orchestrate']));
    if (existsSync(join(own, '@orchestrate'))) {
      mkdirSync(join(dir, 'packages', p, 'node_modules/@orchestrate'));
      for (const q of readdirSync(join(own, '@orchestrate')))
        symlinkSync(join(dir, 'packages', q), join(dir, 'packages', p, 'node_modules/@orchestrate', q));
    }
  }
  // The revision's own build script, with this checkout's tools on PATH.
  const script = sh(process.execPath, ['-p', 'require("./package.json").scripts.build'], dir).stdout.trim();
  const built = spawnSync('sh', ['-c', script], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}` },
  });
  if (built.status !== 0)
    throw new Error(`building ${commit.slice(0, 12)} failed: ${(built.stderr || built.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  return { commit, cli };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(id, sides, runs, log) {
  const p = projects[id];
  const pristine = join(benchDir, '.work', 'run', id, 'pristine');
  if (!existsSync(pristine)) throw new Error(`${pristine} is missing: run node bench/run.mjs --only ${id} first`);
  // Outside the repository: a config's plugins resolve from its directory upwards first, and this
  // checkout's node_modules would hand side A this checkout's plugins.
  const root = mkdtempSync(join(tmpdir(), `orchestrate-ab-${id}-`));
  const clone = (dir) => sh('git', ['clone', '-q', pristine, dir], benchDir);
  for (const [side, { cli }] of Object.entries(sides)) {
    const seed = join(root, `seed-${side}`, id);
    clone(seed);
    sh(process.execPath, [cli, 'build', '--json', '--store', join(root, `store-${side}`)], seed);
    rmSync(join(root, `seed-${side}`), { recursive: true, force: true });
  }
  const native = join(root, 'native', id);
  clone(native);
  if (p.configure) sh(p.configure[0], p.configure[1], native);
  sh(p.build[0], p.build[1], native);
  const out = { native: [], A: [], B: [], timingsA: [], timingsB: [] };
  for (let n = 1; n <= runs; n++) {
    log(`${id}: run ${n}/${runs}`);
    appendFileSync(join(native, p.edit), `\n${p.comment(`native ${n}`)}\n`);
    out.native.push(sh(p.build[0], p.build[1], native).seconds);
    for (const side of n % 2 ? ['A', 'B'] : ['B', 'A']) {
      const dir = join(root, `${side}-${n}`, id);
      clone(dir);
      appendFileSync(join(dir, p.edit), `\n${p.comment(`${side} ${n}`)}\n`);
      const run = sh(process.execPath, [sides[side].cli, 'build', '--json', '--store', join(root, `store-${side}`)], dir);
      const report = JSON.parse(run.stdout);
      if (report.mode !== 'incremental' || !report.changes?.modified?.includes(p.edit)) {
        throw new Error(`${id} ${side} run ${n}: ${report.mode} (${report.reason}), modified ${JSON.stringify(report.changes?.modified)}`);
      }
      out[side].push(run.seconds);
      out[`timings${side}`].push(report.timings);
      rmSync(join(root, `${side}-${n}`), { recursive: true, force: true });
    }
  }
  rmSync(root, { recursive: true, force: true });
  const nat = median(out.native);
  const phase = (side, name) => `${median(out[`timings${side}`].map((t) => t[name] ?? 0))} ms`;
  return ['A', 'B'].map((side) => [
    id,
    side === 'A' ? `A ${sides.A.commit.slice(0, 12)}` : 'B working tree',
    `${nat.toFixed(2)} s`,
    `${median(out[side]).toFixed(2)} s`,
    `${(median(out[side]) / nat).toFixed(2)}x`,
    phase(side, 'restore'),
    phase(side, 'build'),
    phase(side, 'capture'),
  ]);
}

const opts = parseArgs(process.argv.slice(2));
const log = (m) => process.stderr.write(`ab: ${m}\n`);
const current = join(repoRoot, 'packages/core/dist/bundle/cli/bin.cjs');
if (!existsSync(current)) throw new Error(`${current} is missing: run pnpm build first`);
const sides = { A: buildRevision(opts.rev, log), B: { commit: 'working tree', cli: current } };
const rows = opts.only.flatMap((id) => measure(id, sides, opts.runs, log));
process.stdout.write(
  `${formatTable(['project', 'side', 'native incr.', 'orchestrate', 'ratio', 'restore', 'build', 'capture'], rows)}\n` +
    `(medians of ${opts.runs} alternating runs; a fresh clone at a new path per run)\n`,
);
