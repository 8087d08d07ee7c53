#!/usr/bin/env node
// Native build times, side by side: for each project a clean build (configure
// + build from an empty build dir), a no-op rebuild, and a warm incremental
// rebuild after a one-line edit to one source file, with the number of units
// the tool recompiled. Run bench/fetch.sh first.
//
//   node bench/native.mjs [--only id,id] [--runs N] [--jobs N] [--json]
//
// Each project is copied afresh to bench/.work/native/<id> and built there.
// The module also exports the project table and the measuring functions so a
// later script can add orchestrate's times as more columns.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(benchDir, '..');
export const srcDir = join(benchDir, '.work', 'src');
export const nativeDir = join(benchDir, '.work', 'native');

const cCompiled = (out) => (out.match(/^\S*(cc|gcc|clang)\s.*\s-c\s/gm) ?? []).length;
const cmakeCompiled = (out) => (out.match(/Building C object/g) ?? []).length;
const cargoCompiled = (out) => (out.match(/^\s*Compiling /gm) ?? []).length;

/**
 * id, tool, how to lay the tree out in `dir`, optional configure command,
 * build command, the file a one-line edit goes to, the comment syntax, and how
 * to count recompiled units in the build's output.
 */
export function nativeProjects(jobs) {
  const j = String(jobs);
  const cmark = (id, generator) => ({
    id,
    tool: `cmake (${generator})`,
    prepare: (dir) => cpSync(join(srcDir, 'cmark') + '/', dir, { recursive: true }),
    configure: ['cmake', ['-S', '.', '-B', 'build', '-G', generator, '-DCMAKE_BUILD_TYPE=Release']],
    build: ['cmake', ['--build', 'build', '-j', j]],
    edit: 'src/inlines.c',
    comment: (n) => `/* bench edit ${n} */`,
    compiled: cmakeCompiled,
  });
  return [
    {
      id: 'make-hello',
      tool: 'make',
      prepare: (dir) =>
        cpSync(join(repoRoot, 'examples', 'make-hello'), dir, {
          recursive: true,
          filter: (p) => !/\.(o|d)$|\/hello$|\/build$/.test(p),
        }),
      build: ['make', [`-j${j}`]],
      edit: 'src/mathx.c',
      comment: (n) => `/* bench edit ${n} */`,
      compiled: cCompiled,
    },
    {
      id: 'gen-many-200',
      tool: 'make',
      prepare: (dir) => run('node', [join(repoRoot, 'examples', 'gen-many', 'generate.mjs'), dir, '200'], repoRoot),
      build: ['make', [`-j${j}`]],
      edit: 'src/unit_100.c',
      comment: (n) => `/* bench edit ${n} */`,
      compiled: cCompiled,
    },
    {
      id: 'lua',
      tool: "make (Lua's Makefile)",
      prepare: (dir) => cpSync(join(srcDir, 'lua-upstream') + '/', dir, { recursive: true }),
      build: ['make', ['-C', 'src', 'linux', `-j${j}`]],
      edit: 'src/lstrlib.c',
      comment: (n) => `/* bench edit ${n} */`,
      compiled: cCompiled,
    },
    cmark('cmark-ninja', 'Ninja'),
    cmark('cmark-make', 'Unix Makefiles'),
    {
      id: 'rust-app',
      tool: 'cargo (dev profile)',
      prepare: (dir) =>
        cpSync(join(benchDir, 'rust-app'), dir, {
          recursive: true,
          filter: (p) => !/\/target$|\/Cargo\.lock$/.test(p),
        }),
      build: ['cargo', ['build', '--offline', '-j', j]],
      edit: 'src/parse.rs',
      comment: (n) => `// bench edit ${n}`,
      compiled: cargoCompiled,
    },
  ];
}

/** Runs a command; returns its wall time in seconds and its combined output. Throws on failure. */
export function run(cmd, args, cwd, env = process.env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}):\n${output.slice(-4000)}`);
  }
  return { seconds, output };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Measures one project: clean (configure + build), no-op, and `runs` one-line edits. */
export function measureProject(p, { runs = 3, log = () => {} } = {}) {
  const dir = join(nativeDir, p.id);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  p.prepare(dir);

  log(`${p.id}: clean build`);
  const configure = p.configure ? run(p.configure[0], p.configure[1], dir).seconds : 0;
  const full = run(p.build[0], p.build[1], dir);
  const noop = run(p.build[0], p.build[1], dir);
  const edits = [];
  for (let n = 1; n <= runs; n++) {
    log(`${p.id}: one-line edit ${n}/${runs} to ${p.edit}`);
    appendFileSync(join(dir, p.edit), `${p.comment(n)}\n`);
    const r = run(p.build[0], p.build[1], dir);
    edits.push({ seconds: r.seconds, compiled: p.compiled(r.output) });
  }
  return {
    id: p.id,
    tool: p.tool,
    dir,
    edit: p.edit,
    configureSeconds: configure,
    buildSeconds: full.seconds,
    cleanSeconds: configure + full.seconds,
    cleanCompiled: p.compiled(full.output),
    noopSeconds: noop.seconds,
    noopCompiled: p.compiled(noop.output),
    editSeconds: median(edits.map((e) => e.seconds)),
    editCompiled: Math.max(...edits.map((e) => e.compiled)),
    editRuns: edits,
  };
}

export function checkPrerequisites(projects) {
  const missing = [];
  if (projects.some((p) => p.id === 'lua') && !existsSync(join(srcDir, 'lua-upstream'))) missing.push('lua');
  if (projects.some((p) => p.id.startsWith('cmark')) && !existsSync(join(srcDir, 'cmark'))) missing.push('cmark');
  if (projects.some((p) => p.id === 'rust-app')) {
    const registry = '/usr/share/cargo/registry';
    const crates = existsSync(registry) ? readdirSync(registry) : [];
    if (!['serde_json-', 'regex-', 'itoa-'].every((c) => crates.some((d) => d.startsWith(c)))) {
      missing.push(`librust-*-dev crates in ${registry}`);
    }
  }
  return missing;
}

/** Renders rows (arrays of strings) as a table with a header row. */
export function formatTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const secs = (s) => `${s.toFixed(2)} s`;

export function nativeTable(results) {
  return formatTable(
    ['project', 'tool', 'clean (configure + build)', 'units', 'no-op', 'one-line edit (median)', 'units'],
    results.map((r) => [
      r.id,
      r.tool,
      r.configureSeconds ? `${secs(r.cleanSeconds)} (${secs(r.configureSeconds)} + ${secs(r.buildSeconds)})` : secs(r.cleanSeconds),
      r.cleanCompiled,
      secs(r.noopSeconds),
      secs(r.editSeconds),
      r.editCompiled,
    ]),
  );
}

function parseArgs(argv) {
  const opts = { only: null, runs: 3, jobs: os.availableParallelism?.() ?? os.cpus().length, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') opts.only = value().split(',');
    else if (a === '--runs') opts.runs = Number(value());
    else if (a === '--jobs' || a === '-j') opts.jobs = Number(value());
    else if (a === '--json') opts.json = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node bench/native.mjs [--only id,id] [--runs N] [--jobs N] [--json]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new Error('--jobs must be a positive integer');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let projects = nativeProjects(opts.jobs);
  if (opts.only) {
    const unknown = opts.only.filter((id) => !projects.some((p) => p.id === id));
    if (unknown.length) throw new Error(`unknown project ${unknown.join(', ')}; known: ${projects.map((p) => p.id).join(', ')}`);
    projects = projects.filter((p) => opts.only.includes(p.id));
  }
  const missing = checkPrerequisites(projects);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run bash bench/fetch.sh first`);

  const log = opts.json ? () => {} : (m) => process.stderr.write(`native: ${m}\n`);
  const results = projects.map((p) => measureProject(p, { runs: opts.runs, log }));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ jobs: opts.jobs, runs: opts.runs, results }, null, 2)}\n`);
  } else {
    process.stdout.write(`\nnative builds (jobs ${opts.jobs}, one-line edit: median of ${opts.runs})\n${nativeTable(results)}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err) => {
    process.stderr.write(`native.mjs: ${err.message}\n`);
    process.exit(1);
  });
}
