#!/usr/bin/env node
/**
 * Shared checkpoints of cargo projects through each remote on loopback
 * (docker-registry, nginx WebDAV as a Bazel-style HTTP cache), side by side
 * with a tar of the state directory (`target/`) compressed with zstd (gzip
 * when zstd is missing), as a CI cache action would move it:
 *
 * - first push: runner A's checkpoint after a full build / the first archive;
 * - rolling push: after a one-line edit of one source file and an incremental build;
 * - runner B: another directory, an empty store, another edit: the first
 *   incremental build, fetch included / extracting the archive, then cargo;
 *   and, for scale, a clean `cargo build` of B's tree (empty target/).
 *
 * Projects: rust-app (bench/rust-app, dev profile) and ripgrep (Debian's
 * source package, release profile), both built offline from Debian's
 * librust-*-dev crates.
 *
 *   node bench/remote.mjs [--only rust-app,ripgrep] [--keep] [--json]
 *
 * Needs `pnpm build`, cargo with the Debian crates (bench/fetch.sh; for
 * ripgrep `apt-get build-dep ripgrep`), and the test servers
 * (.ci/install-test-servers).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, appendFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const cli = join(benchDir, '..', 'packages/core/dist/bundle/cli/bin.cjs');
const argv = process.argv.slice(2);
const keep = argv.includes('--keep');
const asJson = argv.includes('--json');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : null;
const jobs = String(Math.max(1, os.availableParallelism?.() ?? 2));
const work = mkdtempSync(join(os.tmpdir(), 'orchestrate-bench-remote-'));

function sh(cmd, args, cwd, env = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}):\n${`${r.stdout}${r.stderr}`.slice(-3000)}`);
  return r;
}

function timed(cmd, args, cwd, env) {
  const t0 = process.hrtime.bigint();
  const r = sh(cmd, args, cwd, env);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, ...r };
}

/** The CLI as a process, `--json`; its wall time and report. */
function orchestrate(args, cwd, store) {
  const env = { ...process.env, CI: 'true' };
  for (const key of [
    'ORCHESTRATE_STORE',
    'ORCHESTRATE_REMOTE',
    'ORCHESTRATE_REMOTE_MODE',
    'ORCHESTRATE_SCOPE',
    'GITHUB_ACTIONS',
    'GITLAB_CI',
  ])
    delete env[key];
  const r = timed(process.execPath, [cli, ...args, '--cwd', cwd, '--store', store, '--json'], cwd, env);
  const report = JSON.parse(r.stdout.trim().split('\n').pop());
  if (report.error) throw new Error(`orchestrate ${args.join(' ')}: ${report.error.message}`);
  return { seconds: r.seconds, report };
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not start`);
}

/** docker-registry and nginx on loopback, as packages/core/test/remote-servers.ts starts them. */
async function startServers() {
  const children = [];
  const regDir = join(work, 'registry');
  mkdirSync(join(regDir, 'data'), { recursive: true });
  const regPort = await freePort();
  writeFileSync(
    join(regDir, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(regDir, 'data')}`,
      'http:',
      `  addr: 127.0.0.1:${regPort}`,
      `  secret: bench-${regPort}`,
      '',
    ].join('\n'),
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_')));
  children.push(spawn('/usr/bin/docker-registry', ['serve', join(regDir, 'config.yml')], { env, stdio: 'ignore' }));
  const ngDir = join(work, 'nginx');
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];
  for (const name of ['root', 'logs', ...temps]) mkdirSync(join(ngDir, name), { recursive: true });
  const ngPort = await freePort();
  writeFileSync(
    join(ngDir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      `pid ${join(ngDir, 'nginx.pid')};`,
      `error_log ${join(ngDir, 'logs/error.log')} warn;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      ...temps.map((name) => `  ${name}_temp_path ${join(ngDir, name)};`),
      '  client_max_body_size 0;',
      `  server { listen 127.0.0.1:${ngPort}; root ${join(ngDir, 'root')};`,
      '    location / { dav_methods PUT DELETE; create_full_put_path on; dav_access user:rw group:r all:r; } }',
      '}',
      '',
    ].join('\n'),
  );
  children.push(
    spawn('/usr/sbin/nginx', ['-p', ngDir, '-c', join(ngDir, 'nginx.conf'), '-e', join(ngDir, 'logs/error.log')], { stdio: 'ignore' }),
  );
  await Promise.all([waitFor(`http://127.0.0.1:${regPort}/v2/`), waitFor(`http://127.0.0.1:${ngPort}/`)]);
  return {
    remotes: (id) => [
      { name: 'OCI registry (docker-registry)', url: `oci+http://127.0.0.1:${regPort}/bench/${id}` },
      { name: 'HTTP cache (nginx WebDAV)', url: `http://127.0.0.1:${ngPort}/bench/${id}` },
    ],
    stop: () => children.forEach((child) => child.kill('SIGTERM')),
  };
}

const repoRoot = join(benchDir, '..');
const debianCargoConfig = readFileSync(join(benchDir, 'rust-app', '.cargo', 'config.toml'), 'utf8');

/**
 * The projects: `lay(dir)` writes the sources (a lock file resolved offline
 * against the Debian crates), `edit(dir, n)` appends a comment to one source
 * file, `cargo` is the plain cargo command line equal to the plugin's build.
 */
const projects = [
  {
    id: 'rust-app',
    title: 'bench/rust-app (dev profile)',
    profile: 'dev',
    lay: (dir) => {
      cpSync(join(benchDir, 'rust-app'), dir, { recursive: true, filter: (p) => !/\/target$|\/Cargo\.lock$/.test(p) });
      sh('cargo', ['generate-lockfile', '--offline'], dir);
    },
    edit: (dir, n) => appendFileSync(join(dir, 'src/parse.rs'), `// remote bench edit ${n}\n`),
    cargo: ['build', '--offline', '-j', jobs],
  },
  {
    id: 'ripgrep',
    title: "ripgrep (Debian's source package, release profile)",
    profile: 'release',
    lay: (dir) => {
      // Debian's source package (its patches applied), as dh-cargo builds it:
      // crates.io replaced by the installed librust-*-dev crates.
      const fetched = sh('bash', [join(repoRoot, 'scripts/debian-source.sh'), join(benchDir, '.work', 'src'), 'ripgrep'], repoRoot);
      const src = fetched.stdout.trim().split('\n').pop().replace(/\/$/, '');
      cpSync(src, dir, { recursive: true, filter: (p) => !/\/(target|debian|\.pc)$|\/Cargo\.lock$/.test(p) });
      // The upstream lock file pins versions the registry does not have
      // (bstr 0.2.16 against Debian's 0.2.17): resolved again, offline.
      // Debian's grep crate has no `simd-accel` feature; ripgrep's own
      // feature of that name (not a default one) would fail the resolution.
      const manifest = join(dir, 'Cargo.toml');
      const toml = readFileSync(manifest, 'utf8');
      const feature = /^simd-accel = \["grep\/simd-accel"\]\n/m;
      if (!feature.test(toml)) throw new Error(`${manifest}: no simd-accel feature to drop; the source package changed`);
      writeFileSync(manifest, toml.replace(feature, ''));
      mkdirSync(join(dir, '.cargo'), { recursive: true });
      writeFileSync(join(dir, '.cargo', 'config.toml'), debianCargoConfig);
      sh('cargo', ['generate-lockfile', '--offline'], dir);
    },
    edit: (dir, n) => appendFileSync(join(dir, 'crates/core/search.rs'), `// remote bench edit ${n}\n`),
    cargo: ['build', '--offline', '--release', '-j', jobs],
  },
];

/** `project` at `dir`: its sources, an orchestrate config, a git repository. */
function lay(project, dir) {
  project.lay(dir);
  writeFileSync(
    join(dir, 'orchestrate.config.json'),
    JSON.stringify(
      {
        name: `bench-${project.id}`,
        plugins: [['@orchestrate/plugin-cargo', { profile: project.profile, offline: true, args: ['-j', jobs] }]],
      },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, '.gitignore'), 'target/\n');
  const git = ['-c', 'user.email=bench@localhost', '-c', 'user.name=bench'];
  sh('git', ['init', '-q'], dir);
  sh('git', ['add', '-A'], dir);
  sh('git', [...git, 'commit', '-qm', project.id], dir);
}

const zstd = spawnSync('zstd', ['--version']).status === 0;
const compressor = zstd ? 'zstd' : 'gzip';

/** Archives `target/` of `dir` as actions/cache would: tar and the compressor. */
function archive(dir, file) {
  const t = timed('tar', ['-I', zstd ? 'zstd -T0 -3' : 'gzip', '-cf', file, 'target'], dir);
  return { seconds: t.seconds, bytes: statSync(file).size };
}

/** One project through every remote and the archive; its rows. */
function runProject(project, servers) {
  const root = join(work, project.id);
  const rows = [];
  // Runner A: a full build into its own store, then an edit and a rolling checkpoint.
  const a = join(root, 'a', project.id);
  mkdirSync(a, { recursive: true });
  lay(project, a);
  const storeA = join(root, 'a', 'store');
  const full = orchestrate(['build'], a, storeA);
  if (full.report.mode !== 'full') throw new Error(`${project.id}: the first build was not full`);
  const tarFirst = archive(a, join(root, 'first.tar'));
  const firstId = full.report.saved;

  // Runner B's tree: another path, the rolling edit plus one of its own.
  const b = join(root, 'b', 'elsewhere', project.id);
  mkdirSync(dirname(b), { recursive: true });
  sh('git', ['clone', '-q', a, b], root);
  cpSync(join(a, 'orchestrate.config.json'), join(b, 'orchestrate.config.json'));
  cpSync(join(a, 'Cargo.lock'), join(b, 'Cargo.lock'));

  const pushes = [];
  for (const remote of servers.remotes(project.id)) {
    const push = orchestrate(['push', firstId, '--remote', remote.url, '--remote-mode', 'read-write', '--scope', 'main'], a, storeA);
    pushes.push({ remote, first: push });
  }
  project.edit(a, 1);
  const rolling = orchestrate(['build'], a, storeA);
  if (rolling.report.mode === 'full') throw new Error(`${project.id}: the rolling build was full: ${rolling.report.reason}`);
  const tarRolling = archive(a, join(root, 'rolling.tar'));
  for (const entry of pushes) {
    entry.rolling = orchestrate(
      ['push', rolling.report.saved, '--remote', entry.remote.url, '--remote-mode', 'read-write', '--scope', 'main'],
      a,
      storeA,
    );
  }
  project.edit(b, 1);
  project.edit(b, 2);
  for (const { remote, first, rolling: roll } of pushes) {
    rmSync(join(b, 'target'), { recursive: true, force: true });
    const storeB = join(root, 'b', `store-${rows.length}`);
    const build = orchestrate(['build', '--no-save', '--remote', remote.url], b, storeB);
    if (build.report.mode === 'full' || !String(build.report.restoredFrom).includes('127.0.0.1')) {
      throw new Error(`${project.id}: runner B did not restore from ${remote.url}: ${build.report.reason} ${build.report.remoteError}`);
    }
    rows.push({
      how: remote.name,
      firstBytes: first.report.bytesUp,
      firstSeconds: first.seconds,
      rollingBytes: roll.report.bytesUp,
      rollingSeconds: roll.seconds,
      bBytes: build.report.bytesDown,
      bSeconds: build.seconds,
      bUnits: build.report.unitsRebuilt,
    });
  }
  // The archive: extracted into B's tree, then cargo, as after a cache restore.
  rmSync(join(b, 'target'), { recursive: true, force: true });
  const extract = timed('tar', ['-I', zstd ? 'zstd' : 'gzip', '-xf', join(root, 'rolling.tar')], b);
  const cargo = timed('cargo', project.cargo, b);
  rows.push({
    how: `tar + ${compressor} of target/`,
    firstBytes: tarFirst.bytes,
    firstSeconds: tarFirst.seconds,
    rollingBytes: tarRolling.bytes,
    rollingSeconds: tarRolling.seconds,
    bBytes: tarRolling.bytes,
    bSeconds: extract.seconds + cargo.seconds,
    bUnits: null,
  });
  // No cache at all: a clean cargo build of B's tree, the yardstick for runner B.
  rmSync(join(b, 'target'), { recursive: true, force: true });
  const clean = timed('cargo', project.cargo, b);
  rows.push({
    how: 'no cache: clean cargo build',
    firstBytes: null,
    firstSeconds: null,
    rollingBytes: null,
    rollingSeconds: null,
    bBytes: 0,
    bSeconds: clean.seconds,
    bUnits: null,
  });
  const stateBytes = Number(sh('du', ['-sb', 'target'], a).stdout.split('\t')[0]);
  return { project: project.id, title: project.title, stateBytes, full: full.seconds, clean: clean.seconds, rows };
}

function table(result) {
  const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
  const s = (n) => `${n.toFixed(2)} s`;
  const cell = (bytes, seconds) => (bytes === null ? '—' : `${mb(bytes)}, ${s(seconds)}`);
  const bCell = (r) =>
    r.firstBytes === null
      ? `${s(r.bSeconds)} (cargo, empty target/)`
      : `${mb(r.bBytes)} down, ${s(r.bSeconds)}${r.bUnits === null ? ' (extract + cargo)' : ''}`;
  return [
    `${result.title}: target/ ${mb(result.stateBytes)} after the edit; full build ${s(result.full)} (orchestrate, checkpoint saved), clean cargo build ${s(result.clean)}; ${jobs} jobs; loopback`,
    '',
    '| how | first push | rolling push (one-file edit) | runner B, empty store: first incremental build |',
    '|---|---|---|---|',
    ...result.rows.map(
      (r) => `| ${r.how} | ${cell(r.firstBytes, r.firstSeconds)} | ${cell(r.rollingBytes, r.rollingSeconds)} | ${bCell(r)} |`,
    ),
  ].join('\n');
}

async function main() {
  let servers;
  try {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first`);
    const unknown = (only ?? []).filter((id) => !projects.some((p) => p.id === id));
    if (unknown.length > 0 || (only && only.length === 0))
      throw new Error(`--only takes ${projects.map((p) => p.id).join(',')}; got ${unknown.join(',') || 'nothing'}`);
    const selected = only ? projects.filter((p) => only.includes(p.id)) : projects;
    servers = await startServers();
    for (const project of selected) {
      const result = runProject(project, servers);
      process.stdout.write(asJson ? `${JSON.stringify(result)}\n` : `${table(result)}\n\n`);
    }
  } finally {
    servers?.stop();
    if (!keep) rmSync(work, { recursive: true, force: true });
    else process.stderr.write(`kept ${work}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
