#!/usr/bin/env node
/**
 * Shared checkpoints of bench/rust-app through each remote on loopback
 * (docker-registry, nginx WebDAV as a Bazel-style HTTP cache), side by side
 * with a tar of the state directory (`target/`) compressed with zstd (gzip
 * when zstd is missing), as a CI cache action would move it:
 *
 * - first push: runner A's checkpoint after a full build / the first archive;
 * - rolling push: after a one-line edit of src/parse.rs and an incremental build;
 * - runner B: another directory, an empty store, another edit: the first
 *   incremental build, fetch included / extracting the archive, then cargo.
 *
 *   node bench/remote.mjs [--keep] [--json]
 *
 * Needs `pnpm build`, cargo with the Debian crates (bench/fetch.sh), and the
 * test servers (.ci/install-test-servers).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, appendFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const cli = join(benchDir, '..', 'packages/core/dist/bundle/cli/bin.cjs');
const argv = process.argv.slice(2);
const keep = argv.includes('--keep');
const asJson = argv.includes('--json');
const jobs = String(Math.max(1, os.availableParallelism?.() ?? 2));
const work = mkdtempSync(join(os.tmpdir(), 'orchestrate-bench-remote-'));

function sh(cmd, args, cwd, env = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}):\n${`${r.stdout}${r.stderr}`.slice(-3000)}`);
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
  for (const key of ['ORCHESTRATE_STORE', 'ORCHESTRATE_REMOTE', 'ORCHESTRATE_REMOTE_MODE', 'ORCHESTRATE_SCOPE', 'GITHUB_ACTIONS', 'GITLAB_CI']) delete env[key];
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
    ['version: 0.1', 'log:', '  level: warn', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:', `    rootdirectory: ${join(regDir, 'data')}`, 'http:', `  addr: 127.0.0.1:${regPort}`, `  secret: bench-${regPort}`, ''].join('\n'),
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
  children.push(spawn('/usr/sbin/nginx', ['-p', ngDir, '-c', join(ngDir, 'nginx.conf'), '-e', join(ngDir, 'logs/error.log')], { stdio: 'ignore' }));
  await Promise.all([waitFor(`http://127.0.0.1:${regPort}/v2/`), waitFor(`http://127.0.0.1:${ngPort}/`)]);
  return {
    remotes: [
      { name: 'OCI registry (docker-registry)', url: `oci+http://127.0.0.1:${regPort}/bench/rust-app` },
      { name: 'HTTP cache (nginx WebDAV)', url: `http://127.0.0.1:${ngPort}/bench` },
    ],
    stop: () => children.forEach((child) => child.kill('SIGTERM')),
  };
}

/** rust-app at `dir` as run.mjs lays it: sources, a lock file from the installed crates, a config, a git repository. */
function lay(dir) {
  cpSync(join(benchDir, 'rust-app'), dir, { recursive: true, filter: (p) => !/\/target$|\/Cargo\.lock$/.test(p) });
  sh('cargo', ['generate-lockfile', '--offline'], dir);
  writeFileSync(
    join(dir, 'orchestrate.config.json'),
    JSON.stringify({ name: 'bench-rust-app', plugins: [['@orchestrate/plugin-cargo', { profile: 'dev', offline: true, args: ['-j', jobs] }]] }, null, 2),
  );
  writeFileSync(join(dir, '.gitignore'), 'target/\n');
  const git = ['-c', 'user.email=bench@localhost', '-c', 'user.name=bench'];
  sh('git', ['init', '-q'], dir);
  sh('git', ['add', '-A'], dir);
  sh('git', [...git, 'commit', '-qm', 'rust-app'], dir);
}

const edit = (dir, n) => appendFileSync(join(dir, 'src/parse.rs'), `// remote bench edit ${n}\n`);
const zstd = spawnSync('zstd', ['--version']).status === 0;
const compressor = zstd ? 'zstd' : 'gzip';

/** Archives `target/` of `dir` as actions/cache would: tar and the compressor. */
function archive(dir, file) {
  const t = timed('tar', ['-I', zstd ? 'zstd -T0 -3' : 'gzip', '-cf', file, 'target'], dir);
  return { seconds: t.seconds, bytes: statSync(file).size };
}

async function main() {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first`);
  const servers = await startServers();
  const rows = [];
  try {
    // Runner A: a full build into its own store, then an edit and a rolling checkpoint.
    const a = join(work, 'a', 'rust-app');
    mkdirSync(a, { recursive: true });
    lay(a);
    const storeA = join(work, 'a', 'store');
    const full = orchestrate(['build'], a, storeA);
    if (full.report.mode !== 'full') throw new Error('the first build was not full');
    const tarFirst = archive(a, join(work, 'first.tar'));
    const firstId = full.report.saved;

    // Runner B's tree: another path, the rolling edit plus one of its own.
    const b = join(work, 'b', 'elsewhere', 'rust-app');
    mkdirSync(dirname(b), { recursive: true });
    sh('git', ['clone', '-q', a, b], work);
    cpSync(join(a, 'orchestrate.config.json'), join(b, 'orchestrate.config.json'));
    cpSync(join(a, 'Cargo.lock'), join(b, 'Cargo.lock'));

    const pushes = [];
    for (const remote of servers.remotes) {
      const push = orchestrate(['push', firstId, '--remote', remote.url, '--remote-mode', 'read-write', '--scope', 'main'], a, storeA);
      pushes.push({ remote, first: push });
    }
    edit(a, 1);
    const rolling = orchestrate(['build'], a, storeA);
    if (rolling.report.mode === 'full') throw new Error(`the rolling build was full: ${rolling.report.reason}`);
    const tarRolling = archive(a, join(work, 'rolling.tar'));
    for (const entry of pushes) {
      entry.rolling = orchestrate(['push', rolling.report.saved, '--remote', entry.remote.url, '--remote-mode', 'read-write', '--scope', 'main'], a, storeA);
    }
    edit(b, 1);
    edit(b, 2);
    for (const { remote, first, rolling: roll } of pushes) {
      rmSync(join(b, 'target'), { recursive: true, force: true });
      const storeB = join(work, 'b', `store-${rows.length}`);
      const build = orchestrate(['build', '--no-save', '--remote', remote.url], b, storeB);
      if (build.report.mode === 'full' || !String(build.report.restoredFrom).includes('127.0.0.1')) {
        throw new Error(`runner B did not restore from ${remote.url}: ${build.report.reason} ${build.report.remoteError}`);
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
    const extract = timed('tar', ['-I', zstd ? 'zstd' : 'gzip', '-xf', join(work, 'rolling.tar')], b);
    const cargo = timed('cargo', ['build', '--offline', '-j', jobs], b);
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
    const stateBytes = Number(sh('du', ['-sb', 'target'], a).stdout.split('\t')[0]);
    if (asJson) {
      process.stdout.write(`${JSON.stringify({ stateBytes, full: full.seconds, rows })}\n`);
      return;
    }
    const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
    const s = (n) => `${n.toFixed(2)} s`;
    const lines = [
      `bench/rust-app: target/ ${mb(stateBytes)} after the edit; full build ${s(full.seconds)}; ${jobs} jobs; loopback`,
      '',
      '| how | first push | rolling push (one-file edit) | runner B, empty store: first incremental build |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.how} | ${mb(r.firstBytes)}, ${s(r.firstSeconds)} | ${mb(r.rollingBytes)}, ${s(r.rollingSeconds)} | ${mb(r.bBytes)} down, ${s(r.bSeconds)}${r.bUnits === null ? ' (extract + cargo)' : ''} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    servers.stop();
    if (!keep) rmSync(work, { recursive: true, force: true });
    else process.stderr.write(`kept ${work}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
