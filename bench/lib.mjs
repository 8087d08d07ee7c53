// Shared pieces of the benchmarks (bench/run.mjs, bench/peer.mjs): the
// corpus projects as orchestrate configs plus their native commands, and the
// helpers that run commands, the CLI, clones and checks.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, relative } from 'node:path';
import process from 'node:process';
import { benchDir, repoRoot, srcDir } from './native.mjs';

export const cli = join(repoRoot, 'packages', 'core', 'dist', 'bundle', 'cli', 'bin.cjs');
export const gitId = [
  '-c',
  'user.name=bench',
  '-c',
  'user.email=bench@localhost',
  '-c',
  'init.defaultBranch=main',
  '-c',
  'advice.detachedHead=false',
];

// ---------------------------------------------------------------------------
// Projects

/** Files (relative) whose mtime is newer than `sinceNs`, below `root`, matching `test`. */
export function newerFiles(root, sinceNs, test) {
  const out = [];
  const visit = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === '.git') continue;
      const abs = join(dir, e.name);
      if (e.isDirectory()) visit(abs);
      else if (test(relative(root, abs)) && statSync(abs, { bigint: true }).mtimeNs > sinceNs) out.push(relative(root, abs));
    }
  };
  visit(root);
  return out.sort();
}

export function projects(jobs) {
  const cmark = (id, generator) => ({
    id,
    title: `cmark 0.30.2, CMake (${generator})`,
    plugin: '@orchestrate/plugin-cmake',
    // api_test links libcmark.so with CMake's build RUNPATH (the absolute build dir): at another path the
    // plugin leaves it out of the restore, so the build links it again.
    config: {
      name: `bench-${id}`,
      plugins: [['@orchestrate/plugin-cmake', { generator, buildType: 'Release', jobs }]],
    },
    lay: (dir) => cpSync(join(srcDir, 'cmark') + '/', dir, { recursive: true }),
    configure: ['cmake', ['-S', '.', '-B', 'build', '-G', generator, '-DCMAKE_BUILD_TYPE=Release']],
    build: ['cmake', ['--build', 'build', '-j', String(jobs)]],
    edit: 'src/inlines.c',
    comment: (n) => `/* bench edit ${n} */`,
    // Compiled units: object files written by the build.
    units: (dir, since) => newerFiles(join(dir, 'build'), since, (p) => p.endsWith('.o')),
    product: 'build/src/CMakeFiles/cmark_static.dir/inlines.c.o',
    // What the project produces (compared byte for byte by bench/peer.mjs) and what a CI cache keeps.
    outputs: ['build/src/cmark', 'build/src/libcmark.a', 'build/src/libcmark.so.0.30.2', 'build/api_test/api_test'],
    cache: ['build'],
    ccache: { configure: ['-DCMAKE_C_COMPILER_LAUNCHER=ccache'] },
    check: [
      ['build/src/cmark', ['--version']],
      ['build/src/cmark', ['--smart'], '# Title\n\nSome *emphasis*, `code`, a [link](https://example.org) -- "quoted".\n\n- one\n- two\n'],
    ],
  });
  return [
    {
      id: 'lua',
      title: "Lua 5.4.4, make (Lua's Makefile, in-source)",
      plugin: '@orchestrate/plugin-make',
      config: { name: 'bench-lua', plugins: [['@orchestrate/plugin-make', { targets: ['linux'], jobs }]] },
      lay: (dir) => cpSync(join(srcDir, 'lua-upstream') + '/', dir, { recursive: true }),
      build: ['make', [`-j${jobs}`, 'linux']],
      edit: 'src/lstrlib.c',
      comment: (n) => `/* bench edit ${n} */`,
      units: (dir, since) => newerFiles(join(dir, 'src'), since, (p) => p.endsWith('.o')),
      product: 'src/lstrlib.o',
      outputs: ['src/lua', 'src/luac', 'src/liblua.a'],
      cache: null, // in-source: every untracked file
      ccache: { build: ['CC=ccache gcc -std=gnu99'] }, // Lua's Makefile: CC= gcc -std=gnu99
      check: [
        ['src/lua', ['-v']],
        ['src/lua', ['-e', 'print(string.format("%5.2f|%q", math.pi, "a\\nb"), ("ab"):rep(3, "-"), ("x=1, y=22"):gsub("%d+", "<%0>"))']],
      ],
    },
    cmark('cmark-ninja', 'Ninja'),
    cmark('cmark-make', 'Unix Makefiles'),
    {
      id: 'rust-app',
      title: 'bench/rust-app, cargo (dev profile, offline, Debian crates)',
      plugin: '@orchestrate/plugin-cargo',
      config: {
        name: 'bench-rust-app',
        plugins: [['@orchestrate/plugin-cargo', { profile: 'dev', offline: true, args: ['-j', String(jobs)] }]],
      },
      lay: (dir) => {
        cpSync(join(benchDir, 'rust-app'), dir, { recursive: true, filter: (p) => !/\/target$|\/Cargo\.lock$/.test(p) });
        // A binary crate commits its lock file; generate it from the installed crates.
        sh('cargo', ['generate-lockfile', '--offline'], dir);
      },
      build: ['cargo', ['build', '--offline', '-j', String(jobs)]],
      edit: 'src/parse.rs',
      comment: (n) => `// bench edit ${n}`,
      // Cargo writes invoked.timestamp in a unit's fingerprint dir each time it runs the unit.
      units: (dir, since) => newerFiles(join(dir, 'target'), since, (p) => p.endsWith('/invoked.timestamp')),
      product: 'target/debug/rust-app',
      outputs: ['target/debug/rust-app'],
      crate: 'rust-app',
      cache: ['target'],
      check: [['target/debug/rust-app', []]],
      stateSize: true,
    },
  ];
}

// ---------------------------------------------------------------------------
// Helpers

export const timeBin = '/usr/bin/time';
export const cpuFile = join(os.tmpdir(), `orchestrate-bench-cpu-${process.pid}`);

/**
 * Runs a command; throws with the output's tail on failure. With `cpu`, it runs
 * under GNU time and `cpuSeconds` is the user + system time of the process and
 * all its children: steadier than wall time on a machine shared with other work.
 */
export function sh(cmd, args, cwd, { input, env, cpu } = {}) {
  const wrapped = cpu && existsSync(timeBin);
  const r = wrapped
    ? spawnSync(timeBin, ['-q', '-f', '%U %S', '-o', cpuFile, cmd, ...args], {
        cwd,
        input,
        env: env ?? process.env,
        encoding: 'utf8',
        maxBuffer: 256 << 20,
      })
    : spawnSync(cmd, args, { cwd, input, env: env ?? process.env, encoding: 'utf8', maxBuffer: 256 << 20 });
  let cpuSeconds;
  if (wrapped) {
    const [u, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    cpuSeconds = u + sys;
  }
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}):\n${output.slice(-4000)}`);
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status, output, cpuSeconds };
}

/** Times a command (wall, seconds). */
export function timed(cmd, args, cwd, opts) {
  const t0 = process.hrtime.bigint();
  const r = sh(cmd, args, cwd, { cpu: true, ...opts });
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, ...r };
}

/** Runs the CLI; returns its wall time and its parsed JSON report. */
export function orchestrate(args, cwd, store) {
  const env = { ...process.env, CI: 'true' };
  delete env.ORCHESTRATE_STORE;
  const t0 = process.hrtime.bigint();
  let r;
  try {
    r = sh(process.execPath, [cli, ...args, '--cwd', cwd, '--store', store, '--json'], cwd, { env, cpu: true });
  } catch (error) {
    r = { stdout: '', stderr: error.message, status: 'failed' };
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let report;
  try {
    report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    report = undefined;
  }
  if (r.status !== 0 || !report || report.error) {
    const err = new Error(
      `orchestrate ${args.join(' ')} in ${cwd} failed (exit ${r.status}): ${report?.error?.message ?? ''}\n${(r.stderr ?? '').slice(-3000)}`,
    );
    err.report = report;
    throw err;
  }
  return { seconds, cpuSeconds: r.cpuSeconds, report, stderr: r.stderr };
}

export const nowNs = () => BigInt(Date.now() - 20) * 1_000_000n; // file times come from a coarser clock
export const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function clone(pristine, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  sh('git', [...gitId, 'clone', '-q', pristine, dir], join(dir, '..'));
}

export function applyEdits(p, dir, upTo) {
  for (let n = 1; n <= upTo; n++) appendFileSync(join(dir, p.edit), `${p.comment(n)}\n`);
}

/** What the built program prints, for comparing two trees. */
export function behaviour(p, dir) {
  return p.check
    .map(([exe, args, input]) => {
      // An absolute `exe` (a shell running the tree's programs) is run as it is.
      const r = spawnSync(exe.startsWith('/') ? exe : join(dir, exe), args, { cwd: dir, input, encoding: 'utf8' });
      return `$ ${exe} ${args.join(' ')}\n${r.error ? `error: ${r.error.message}` : `${r.stdout}${r.stderr}[exit ${r.status}]`}`;
    })
    .join('\n');
}

/** Files below `dir` that name one of `oldRoots` (absolute paths of other copies). */
export function filesNaming(dir, oldRoots) {
  if (oldRoots.length === 0) return [];
  const r = spawnSync('grep', ['-rlaF', '--exclude-dir=.git', ...oldRoots.flatMap((o) => ['-e', `${o}/`]), '.'], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return (r.stdout ?? '')
    .split('\n')
    .filter(Boolean)
    .map((p) => p.replace(/^\.\//, ''))
    .sort();
}

export function pluginInstalled(name) {
  try {
    createRequire(join(repoRoot, 'package.json')).resolve(name);
    return true;
  } catch {
    return false;
  }
}

export function duBytes(dir) {
  if (!existsSync(dir)) return undefined;
  return Number(sh('du', ['-sb', dir], '/').stdout.split(/\s/)[0]);
}
