// Large trees (issue 13, item 6): orchestrate's source listing and restore on
// an 11k-file tree, side by side with git, sha256sum, stat and cp -a in one
// run. See bench/README.md, "Large trees".
//
//   node bench/large-tree.mjs [--src DIR] [--runs N] [--only scan,hash,stat,restore] [--against CHECKOUT] [--json] [--keep]
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { cli, gitId, median, sh } from './lib.mjs';
import { benchDir, repoRoot, srcDir } from './native.mjs';

const ownDist = join(repoRoot, 'packages', 'core', 'dist');

/** /proc/self/stat's cutime + cstime: CPU of the children waited for, in ms (10 ms ticks). */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * (1000 / 100);
}

// Child mode: one scan in a process of its own (a CLI run scans once, cold JIT), timed from inside.
if (process.argv[2] === '--child-scan') {
  const dir = resolve(process.argv[3]);
  const dist = process.argv[4] ?? ownDist;
  const { scanSources } = await import(pathToFileURL(join(dist, 'sources', 'scan.js')).href);
  // The CLI imports its process runner (execa) while it starts: loaded here before the timing too.
  const { runProcess } = await import(pathToFileURL(join(dist, 'process.js')).href);
  await runProcess('true', []);
  const k0 = childrenCpuMs();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const scan = await scanSources({ sourceDir: dir, buildDir: join(dir, 'build'), include: [], exclude: [] });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const childMs = childrenCpuMs() - k0;
  process.stdout.write(
    `${JSON.stringify({ method: scan.method, files: scan.sources.size, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 + childMs, childMs })}\n`,
  );
  process.exit(0);
}

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('--runs') ?? 5);
const only = new Set((opt('--only') ?? 'scan,hash,stat,restore').split(','));
const keep = args.includes('--keep');
const defaultSrc = () => {
  const found = existsSync(srcDir) ? readdirSync(srcDir).find((name) => /^libgit2-[\d.]+/.test(name)) : undefined;
  return found && join(srcDir, found);
};
const src = resolve(opt('--src') ?? defaultSrc() ?? '');
if (!existsSync(join(src, 'include'))) {
  console.error(`no source tree at '${src}': run 'cd bench/.work/src && apt-get source libgit2' or pass --src DIR`);
  process.exit(2);
}
const work = join(benchDir, '.work', 'large');
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** Wall and CPU (user + sys of the command and its children, GNU time) of a shell command line. */
function shell(line, cwd, env) {
  const t0 = process.hrtime.bigint();
  const r = sh('sh', ['-c', line], cwd, { cpu: true, env: env ?? process.env });
  return { wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: r.cpuSeconds * 1000 };
}

/** Another built checkout whose listing is measured beside this one's (its packages/core/dist). */
const against = opt('--against') && resolve(opt('--against'));

/** orchestrate's source listing of `dir` in a fresh node process (the scan alone is timed). */
function scan(dir, env, dist) {
  const r = sh(process.execPath, [process.argv[1], '--child-scan', dir, ...(dist ? [dist] : [])], work, { env: env ?? process.env });
  return JSON.parse(r.stdout.trim());
}

function freshClone(name) {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  sh('git', [...gitId, 'clone', '-q', join(work, 'pristine'), dir], work);
  return dir;
}

// Setup: a git repository of the tree with one commit; plain copies without .git.
mkdirSync(work, { recursive: true });
const pristine = join(work, 'pristine');
if (!existsSync(join(pristine, '.git'))) {
  rmSync(pristine, { recursive: true, force: true });
  cpSync(src, pristine, { recursive: true, verbatimSymlinks: true });
  sh('git', [...gitId, 'init', '-q'], pristine);
  sh('git', [...gitId, 'add', '-A'], pristine);
  sh('git', [...gitId, 'commit', '-q', '-m', 'tree'], pristine);
}
const plain = join(work, 'plain');
const plainOld = join(work, 'plain-mtime1');
for (const dir of [plain, plainOld]) {
  rmSync(dir, { recursive: true, force: true });
  sh('cp', ['-r', src, dir], work);
}
// As the Nix store has them.
sh('sh', ['-c', 'find . -exec touch -h -d @1 {} +'], plainOld);
// Outside git, as a Nix builder's tree: git must not find the repository this checkout is in.
const outsideGit = { ...process.env, GIT_CEILING_DIRECTORIES: work };
const files = Number(sh('sh', ['-c', 'find . -type f | wc -l'], plain).stdout.trim());
const bytes = Number(sh('du', ['-sb', '.'], plain).stdout.split('\t')[0]);

const rows = new Map();
const add = (name, value) => {
  if (!rows.has(name)) rows.set(name, []);
  rows.get(name).push(value);
};
const loadStart = load();

// Restore: a make project whose build copies the tree into its object directory (~11k state files).
let stateRepo;
let store;
if (only.has('restore')) {
  rmSync(join(work, 'restored'), { recursive: true, force: true });
  stateRepo = join(work, 'state-pristine');
  store = join(work, 'store');
  rmSync(stateRepo, { recursive: true, force: true });
  rmSync(store, { recursive: true, force: true });
  mkdirSync(stateRepo, { recursive: true });
  writeFileSync(
    join(stateRepo, 'Makefile'),
    `all: build/.done\nbuild/.done: Makefile\n\tmkdir -p build && cp -r ${src}/. build/tree && touch $@\n`,
  );
  writeFileSync(
    join(stateRepo, 'orchestrate.config.json'),
    `${JSON.stringify({ name: 'large-state', plugins: [['@orchestrate/plugin-make', { objDir: 'build', jobs: 1 }]] })}\n`,
  );
  writeFileSync(join(stateRepo, '.gitignore'), 'build/\n');
  sh('git', [...gitId, 'init', '-q'], stateRepo);
  sh('git', [...gitId, 'add', '-A'], stateRepo);
  sh('git', [...gitId, 'commit', '-q', '-m', 'state'], stateRepo);
  const first = join(work, 'state-a');
  rmSync(first, { recursive: true, force: true });
  sh('git', [...gitId, 'clone', '-q', stateRepo, first], work);
  sh(process.execPath, [cli, 'build', '--cwd', first, '--store', store, '--json'], first, { env: { ...process.env, CI: 'true' } });
}

for (let run = 0; run < runs; run++) {
  if (only.has('scan')) {
    const clone = freshClone('clone');
    const s = scan(clone);
    if (s.method !== 'git') throw new Error(`the clone was listed by ${s.method}`);
    add('orchestrate: sources of a fresh clone (git)', s);
    if (against) add(`  the same by ${against}`, scan(freshClone('clone'), undefined, join(against, 'packages', 'core', 'dist')));
    add('git ls-files -s (fresh clone)', shell('git ls-files -s -z >/dev/null', freshClone('clone')));
    add('git ls-files -o --exclude-standard (fresh clone)', shell('git ls-files -o --exclude-standard -z >/dev/null', freshClone('clone')));
    add('git status (fresh clone: refreshes its index)', shell('git status --porcelain >/dev/null', freshClone('clone')));
    add('git status (again)', shell('git status --porcelain >/dev/null', join(work, 'clone')));
  }
  if (only.has('hash')) {
    for (const [name, dir] of [
      ['plain copy', plain],
      ['plain copy, mtimes 1', plainOld],
    ]) {
      const s = scan(dir, outsideGit);
      if (s.method !== 'walk') throw new Error(`the plain copy was listed by ${s.method}`);
      add(`orchestrate: sources of a ${name} (walk + hash)`, s);
      if (against) add(`  the same (${name}) by ${against}`, scan(dir, outsideGit, join(against, 'packages', 'core', 'dist')));
    }
    add('find | xargs sha256sum', shell('find . -type f -print0 | xargs -0 sha256sum >/dev/null', plain));
    add('find | xargs -P2 sha256sum', shell('find . -type f -print0 | xargs -0 -P2 -n 2000 sha256sum >/dev/null', plain));
    add('find | xargs sha1sum', shell('find . -type f -print0 | xargs -0 sha1sum >/dev/null', plain));
  }
  if (only.has('stat')) {
    add('find -type f (names only)', shell('find . -type f >/dev/null', plain));
    add('find -type f -printf %s (a stat of every file)', shell("find . -type f -printf '%s\\n' >/dev/null", plain));
  }
  if (only.has('restore')) {
    for (const [label, bin] of [
      ['orchestrate', cli],
      ...(against ? [[`  by ${against}`, join(against, 'packages', 'core', 'dist', 'bundle', 'cli', 'bin.cjs')]] : []),
    ]) {
      // A new directory each time, removed at the end: right after a large tree is deleted, ext4 (mounted
      // with discard here) takes up to 10x the system time to create files, for cp -a as for orchestrate.
      const target = join(work, 'restored', `${run}-${label.trim().replace(/\W+/g, '-')}`);
      sh('git', [...gitId, 'clone', '-q', stateRepo, target], work);
      const t0 = process.hrtime.bigint();
      const r = sh(process.execPath, [bin, 'restore', '--cwd', target, '--store', store, '--json'], target, {
        env: { ...process.env, CI: 'true' },
        cpu: true,
      });
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const report = JSON.parse(r.stdout.trim().split('\n').pop());
      if (report.restoredFiles < files) throw new Error(`restored ${report.restoredFiles} files, expected at least ${files}`);
      add(`${label} restore: restore phase`, { wallMs: report.timings.restore });
      add(`${label} restore: whole process`, { wallMs, cpuMs: r.cpuSeconds * 1000 });
    }
    const copy = join(work, 'restored', `${run}-cp`);
    mkdirSync(copy, { recursive: true });
    add('cp -a of the same state', shell(`cp -a ${join(work, 'state-a', 'build')} ${join(copy, 'build')}`, work));
  }
}

const loadEnd = load();
const fmt = (ms) => (ms === undefined ? '' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
const table = [...rows].map(([name, values]) => ({
  name,
  wall: median(values.map((v) => v.wallMs)),
  cpu: median(values.map((v) => v.cpuMs)),
  note: values[0].files === undefined ? '' : `${values[0].files} sources`,
}));
if (args.includes('--json')) {
  console.log(JSON.stringify({ src, files, bytes, runs, loadStart, loadEnd, rows: Object.fromEntries(rows) }, null, 2));
} else {
  console.log(
    `large tree: ${src} (${files} files, ${(bytes / 1e6).toFixed(1)} MB); median of ${runs}; load ${loadStart} at the start, ${loadEnd} at the end`,
  );
  const widths = [Math.max(...table.map((r) => r.name.length)), 8, 8];
  console.log(`| ${'what'.padEnd(widths[0])} | wall     | CPU      | notes |`);
  console.log(`|${'-'.repeat(widths[0] + 2)}|----------|----------|-------|`);
  for (const r of table) console.log(`| ${r.name.padEnd(widths[0])} | ${fmt(r.wall).padEnd(8)} | ${fmt(r.cpu).padEnd(8)} | ${r.note} |`);
}
if (!keep) {
  for (const name of ['clone', 'plain', 'plain-mtime1', 'state-a', 'restored', 'state-pristine', 'store']) {
    rmSync(join(work, name), { recursive: true, force: true });
  }
}
