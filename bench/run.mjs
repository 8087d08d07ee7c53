#!/usr/bin/env node
// orchestrate against native incremental builds, side by side, on real
// projects (Lua 5.4 and cmark from Debian's source packages, bench/rust-app
// from Debian's librust-*-dev crates):
//
//   pnpm bench                       (= pnpm build && node bench/run.mjs)
//   node bench/run.mjs [--only lua,cmark-ninja,cmark-make,rust-app] [--runs N] [--jobs N] [--json] [--keep]
//
// For each project, in bench/.work/run/<id>/:
//   pristine/   the source, with an orchestrate config, committed to a git repo
//   native/     a clone: clean build (configure + build), then `runs` warm
//               one-line edits, each timed natively
//   a/<id>/     a clone: `orchestrate build` (full; saves the checkpoint)
//               then, once, the tree is cloned again at the same path with
//               edit 1 and built with --no-save: restore without relocation
//   b<n>/<id>/  for n = 1..runs, a fresh clone at another absolute path (every
//               mtime "now", as on a CI runner) with edits 1..n, the same
//               content as the native tree after edit n: `orchestrate build`,
//               timed as a whole process (node startup included)
// Each orchestrate-built program is run and its output compared with the
// natively built one's; the run must be incremental, list the edited file as
// modified, and have rebuilt the edited file's object.
// Sources missing? bench/fetch.sh is run first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import process from 'node:process';
import {
  applyEdits,
  behaviour,
  cli,
  clone,
  duBytes,
  filesNaming,
  gitId,
  median,
  nowNs,
  orchestrate,
  pluginInstalled,
  projects,
  sh,
  timed,
} from './lib.mjs';
import { benchDir, checkPrerequisites, formatTable, repoRoot } from './native.mjs';

const runDir = join(benchDir, '.work', 'run');

// ---------------------------------------------------------------------------
// One project

function measure(p, { runs, log }) {
  const base = join(runDir, p.id);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const store = join(base, 'store');

  // Pristine repo: the source plus its orchestrate config, committed.
  const pristine = join(base, 'pristine');
  mkdirSync(pristine, { recursive: true });
  p.lay(pristine);
  writeFileSync(join(pristine, 'orchestrate.config.json'), `${JSON.stringify(p.config, null, 2)}\n`);
  sh('git', [...gitId, 'init', '-q'], pristine);
  sh('git', [...gitId, 'add', '-A'], pristine);
  sh('git', [...gitId, 'commit', '-q', '-m', 'pristine'], pristine);

  // Native clean build, in its own clone; that tree stays warm for the edits.
  const native = join(base, 'native');
  clone(pristine, native);
  log(`${p.id}: native clean build`);
  const configure = p.configure ? timed(p.configure[0], p.configure[1], native).seconds : 0;
  const t0 = nowNs();
  const full = timed(p.build[0], p.build[1], native);
  const cleanUnits = p.units(native, t0).length;

  // orchestrate's full build in A: saves the first checkpoint.
  const aDir = join(base, 'a', p.id);
  clone(pristine, aDir);
  log(`${p.id}: orchestrate build (full) in ${relative(repoRoot, aDir)}`);
  const first = orchestrate(['build'], aDir, store);
  if (first.report.mode !== 'full') throw new Error(`first orchestrate build was ${first.report.mode}, expected full`);
  const listed = JSON.parse(sh(process.execPath, [cli, 'list', '--cwd', aDir, '--store', store, '--json'], aDir).stdout);
  const checkpoint = listed.checkpoints.find((c) => c.id === first.report.saved);
  const targetBytes = p.stateSize ? duBytes(join(aDir, 'target')) : undefined;

  // Restore at the same path (no relocation): A cloned again in place, edit 1, --no-save.
  clone(pristine, aDir);
  applyEdits(p, aDir, 1);
  log(`${p.id}: orchestrate build --no-save at the checkpoint's own path`);
  const samePath = orchestrate(['build', '--no-save'], aDir, store);

  const edits = [];
  for (let n = 1; n <= runs; n++) {
    // Native: the warm tree, one more edit.
    log(`${p.id}: edit ${n}/${runs}: native incremental`);
    applyEdits({ ...p, comment: () => p.comment(n) }, native, 1);
    let since = nowNs();
    const nat = timed(p.build[0], p.build[1], native);
    const nativeUnits = p.units(native, since);
    const nativeOut = behaviour(p, native);

    // orchestrate: a fresh clone at another path, with the same content.
    const bDir = join(base, `b${n}`, p.id);
    clone(pristine, bDir);
    applyEdits(p, bDir, n);
    log(`${p.id}: edit ${n}/${runs}: orchestrate build in ${relative(repoRoot, bDir)}`);
    since = nowNs();
    const orch = orchestrate(['build'], bDir, store);
    const orchUnits = p.units(bDir, since);
    const orchOut = behaviour(p, bDir);

    const problems = [];
    const r = orch.report;
    if (r.mode !== 'incremental') problems.push(`mode ${r.mode} (${r.reason})`);
    if (!r.changes?.modified?.includes(p.edit)) problems.push(`${p.edit} not listed as modified (${JSON.stringify(r.changes)})`);
    const productNs = existsSync(join(bDir, p.product)) ? statSync(join(bDir, p.product), { bigint: true }).mtimeNs : undefined;
    const editNs = statSync(join(bDir, p.edit), { bigint: true }).mtimeNs;
    if (productNs === undefined || productNs < editNs) problems.push(`${p.product} was not rebuilt after the edit`);
    if (orchOut !== nativeOut)
      problems.push(`program output differs from the native build's:\n--- native\n${nativeOut}\n--- orchestrate\n${orchOut}`);
    const others = [join(base, 'a', p.id), ...Array.from({ length: n - 1 }, (_, k) => join(base, `b${k + 1}`, p.id))];
    const stale = filesNaming(bDir, others);
    edits.push({
      n,
      nativeSeconds: nat.seconds,
      nativeCpuSeconds: nat.cpuSeconds,
      nativeUnits,
      orchestrateSeconds: orch.seconds,
      orchestrateCpuSeconds: orch.cpuSeconds,
      orchestrateUnits: orchUnits,
      report: r,
      sameOutput: orchOut === nativeOut,
      filesNamingOtherCopies: stale,
      problems,
    });
    if (problems.length) log(`${p.id}: edit ${n}: PROBLEM: ${problems.join('; ')}`);
  }
  const nativeIncr = median(edits.map((e) => e.nativeSeconds));
  const orchIncr = median(edits.map((e) => e.orchestrateSeconds));
  return {
    id: p.id,
    title: p.title,
    status: edits.some((e) => e.problems.length) ? 'problems' : 'ok',
    paths: { pristine, native, a: aDir, store },
    clean: { configureSeconds: configure, buildSeconds: full.seconds, seconds: configure + full.seconds, units: cleanUnits },
    orchestrateFull: { seconds: first.seconds, report: first.report },
    checkpoint: checkpoint && { id: checkpoint.id, files: checkpoint.files, bytes: checkpoint.bytes },
    targetBytes,
    samePath: { seconds: samePath.seconds, report: samePath.report },
    edits,
    nativeIncrementalSeconds: nativeIncr,
    orchestrateSeconds: orchIncr,
    ratio: orchIncr / nativeIncr,
    nativeIncrementalCpuSeconds: median(edits.map((e) => e.nativeCpuSeconds)),
    orchestrateCpuSeconds: median(edits.map((e) => e.orchestrateCpuSeconds)),
    cpuRatio: median(edits.map((e) => e.orchestrateCpuSeconds / e.nativeCpuSeconds)),
    restoreMs: median(edits.map((e) => e.report.timings?.restore)),
    captureMs: median(edits.map((e) => e.report.timings?.capture)),
    durationMs: median(edits.map((e) => e.report.durationMs)),
    peakRssKb: Math.max(...edits.map((e) => e.report.peakRssKb ?? 0), first.report.peakRssKb ?? 0) || undefined,
    // Restore into another path (b1, same checkpoint, same change) vs. into the checkpoint's own path.
    relocation: { restoreMs: edits[0]?.report.timings?.restore, samePathRestoreMs: samePath.report.timings?.restore },
  };
}

// ---------------------------------------------------------------------------
// Report

const secs = (s) => (s === undefined ? '-' : `${s.toFixed(2)} s`);
const ms = (v) => (v === undefined ? '-' : `${Math.round(v)} ms`);
const mb = (b) => (b === undefined ? '-' : `${(b / 1e6).toFixed(1)} MB`);

function table(results, opts) {
  const rows = results.map((r) => {
    if (r.status === 'skipped' || r.status === 'failed') {
      return [r.id, `${r.status}: ${r.why}`, '', '', '', '', '', '', '', '', ''];
    }
    const notes = [];
    const units = (e) => `${e.length}`;
    notes.push(`units ${r.clean.units} / ${units(r.edits[0].nativeUnits)} native / ${units(r.edits[0].orchestrateUnits)} orch.`);
    if (r.id.startsWith('cmark')) {
      notes.push(`relocation: restore ${ms(r.relocation.restoreMs)} vs ${ms(r.relocation.samePathRestoreMs)} at the same path`);
    }
    if (r.targetBytes !== undefined)
      notes.push(`target/ ${mb(r.targetBytes)}, state kept ${mb(r.checkpoint?.bytes)} (${r.checkpoint?.files} files)`);
    if (r.status === 'problems') notes.push('PROBLEMS, see above');
    return [
      r.id,
      secs(r.clean.seconds),
      secs(r.orchestrateFull.seconds),
      secs(r.nativeIncrementalSeconds),
      secs(r.orchestrateSeconds),
      `${r.ratio.toFixed(2)}x`,
      r.cpuRatio === undefined
        ? '-'
        : `${r.cpuRatio.toFixed(2)}x (${r.nativeIncrementalCpuSeconds.toFixed(2)}/${r.orchestrateCpuSeconds.toFixed(2)})`,
      ms(r.restoreMs),
      ms(r.captureMs),
      r.peakRssKb ? `${Math.round(r.peakRssKb / 1024)} MB` : '-',
      notes.join('; '),
    ];
  });
  return [
    `orchestrate vs native (jobs ${opts.jobs}; one-line edit: median of ${opts.runs}; goal: ratio <= 1.3x)`,
    formatTable(
      [
        'project',
        'clean',
        'orch. full',
        'native incr.',
        'orchestrate',
        'ratio',
        'CPU ratio (native/orch. s)',
        'restore',
        'capture',
        'peak RSS',
        'notes',
      ],
      rows,
    ),
  ].join('\n');
}

function details(results) {
  const lines = [];
  for (const r of results) {
    if (!r.edits) continue;
    lines.push(`${r.id}:`);
    for (const e of r.edits) {
      const t = e.report.timings ?? {};
      lines.push(
        `  edit ${e.n}: native ${secs(e.nativeSeconds)} (CPU ${secs(e.nativeCpuSeconds)}) [${e.nativeUnits.join(' ')}], orchestrate ${secs(e.orchestrateSeconds)} (CPU ${secs(e.orchestrateCpuSeconds)}; in-process ${e.report.durationMs} ms: ` +
          `${Object.entries(t)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}) [${e.orchestrateUnits.join(' ')}]` +
          `${e.sameOutput ? ', same output' : ', OUTPUT DIFFERS'}${e.filesNamingOtherCopies.length ? `, ${e.filesNamingOtherCopies.length} files name another copy's path: ${e.filesNamingOtherCopies.slice(0, 6).join(' ')}` : ''}`,
      );
      for (const problem of e.problems) lines.push(`    PROBLEM: ${problem}`);
    }
    const t = r.samePath.report.timings ?? {};
    lines.push(`  same path (no relocation): ${secs(r.samePath.seconds)}, restore ${t.restore} ms, mode ${r.samePath.report.mode}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { only: null, runs: 3, jobs: os.availableParallelism?.() ?? os.cpus().length, json: false, keep: false, report: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') opts.only = value().split(',').filter(Boolean);
    else if (a === '--runs') opts.runs = Number(value());
    else if (a === '--jobs' || a === '-j') opts.jobs = Number(value());
    else if (a === '--json') opts.json = true;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--report') opts.report = value();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: node bench/run.mjs [--only lua,cmark-ninja,cmark-make,rust-app] [--runs N] [--jobs N] [--json] [--keep]\n' +
          '       node bench/run.mjs --report FILE   (the tables of a saved --json output)\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new Error('--jobs must be a positive integer');
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.report) {
    const saved = JSON.parse(readFileSync(opts.report, 'utf8'));
    process.stdout.write(`${saved.machine}\n\n${details(saved.results)}\n\n${table(saved.results, saved)}\n`);
    return;
  }
  let list = projects(opts.jobs);
  if (opts.only) {
    const unknown = opts.only.filter((id) => !list.some((p) => p.id === id));
    if (unknown.length) throw new Error(`unknown project ${unknown.join(', ')}; known: ${list.map((p) => p.id).join(', ')}`);
    list = list.filter((p) => opts.only.includes(p.id));
  }
  const log = (m) => process.stderr.write(`bench: ${m}\n`);
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first (pnpm bench does)`);

  if (checkPrerequisites(list).length) {
    log(`fetching sources: bash bench/fetch.sh`);
    const r = spawnSync('bash', [join(benchDir, 'fetch.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench/fetch.sh failed (exit ${r.status})`);
    const still = checkPrerequisites(list);
    if (still.length) throw new Error(`still missing after bench/fetch.sh: ${still.join(', ')}`);
  }

  const loadBefore = os.loadavg()[0];
  const results = [];
  for (const p of list) {
    if (!pluginInstalled(p.plugin)) {
      log(`${p.id}: skipped: plugin not installed (${p.plugin})`);
      results.push({ id: p.id, title: p.title, status: 'skipped', why: `plugin not installed (${p.plugin})` });
      continue;
    }
    try {
      results.push(measure(p, { runs: opts.runs, log }));
    } catch (error) {
      log(`${p.id}: FAILED: ${error.message}`);
      results.push({ id: p.id, title: p.title, status: 'failed', why: error.message.split('\n')[0], error: error.message });
    }
    if (!opts.keep) {
      // Keep the store and the trees of the last run only while inspecting (--keep).
      for (const d of ['a', 'native', ...Array.from({ length: opts.runs }, (_, k) => `b${k + 1}`)]) {
        rmSync(join(runDir, p.id, d), { recursive: true, force: true });
      }
    }
  }

  const machine = `${os.availableParallelism?.() ?? os.cpus().length} CPUs, node ${process.version}, load average ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ machine, jobs: opts.jobs, runs: opts.runs, results }, null, 2)}\n`);
    process.stderr.write(`\n${table(results, opts)}\n`);
  } else {
    process.stdout.write(`\n${details(results)}\n\n${table(results, opts)}\n`);
  }
  if (results.some((r) => r.status === 'failed' || r.status === 'problems')) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench/run.mjs: ${err.message}\n`);
  process.exit(1);
});
