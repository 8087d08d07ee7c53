/**
 * Shared checkpoints end to end through the CLI (`build`, `push`, `pull`,
 * `list --remote`) against real servers on 127.0.0.1: docker-registry and
 * nginx with WebDAV. Two runners as CI has them: each its own project
 * directory at another absolute path and its own store directory; runner B
 * starts with an empty store, edits one source, and must rebuild exactly that
 * unit, with outputs byte-equal to a clean build of the same sources. Last,
 * the recipes of docs/ci.md run as written.
 */
import { execa } from 'execa';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, createCompilerLog, listTree, tempDir, type CompilerLog } from '@orchestrate/core/testing';
import { publicKeyBase64 } from '../src/store/remote/signature.js';
import { makeConfig, orchestrate, storeBlobs, storeManifests, treeDigest, TINY_SOURCES, writeFiles, type Run } from './helpers.js';
import { startNginxCache, startRegistry, startTcpProxy, type RunningServer } from './remote-servers.js';

const OUTPUTS = ['hello', 'main.o', 'greet.o'];
/** No CI's variables leak in from the machine running the tests: scopes come from each test. */
const NO_CI = {
  GITHUB_ACTIONS: undefined,
  GITLAB_CI: undefined,
  ORCHESTRATE_REMOTE: undefined,
  ORCHESTRATE_REMOTE_MODE: undefined,
  ORCHESTRATE_SCOPE: undefined,
};

let registry: RunningServer;
let nginx: RunningServer;
let root: string;
/** One compiler wrapper for every runner: the fingerprint names the compiler. */
let cc: CompilerLog;
beforeAll(async () => {
  [registry, nginx] = await Promise.all([startRegistry(), startNginxCache()]);
  root = await tempDir('orchestrate-remote-cli-');
  cc = await createCompilerLog(join(root, 'cc'));
});
afterAll(async () => {
  await Promise.all([registry?.stop(), nginx?.stop()]);
});

const oci = (repository: string, port = registry.port) => `oci+http://127.0.0.1:${port}/${repository}`;

interface Runner {
  readonly dir: string;
  readonly store: string;
  run(args: readonly string[], env?: Record<string, string | undefined>): Promise<Run>;
}

/**
 * A runner: the tiny project (named `name`, so both runners share an
 * identity) at `<root>/<test>/<label>/work/<name>` with its store beside it;
 * `greeting` edits greet.c.
 */
async function runner(test: string, label: string, greeting = 'hello'): Promise<Runner> {
  const base = join(root, test, label);
  const dir = join(base, 'work', test);
  await writeFiles(dir, { ...TINY_SOURCES, 'greet.c': TINY_SOURCES['greet.c']!.replace('"hello"', `"${greeting}"`) });
  await writeFile(join(dir, 'orchestrate.config.json'), makeConfig({ name: test }));
  const store = join(base, 'store');
  return {
    dir,
    store,
    run: (args, env = {}) => orchestrate([...args, '--json'], { cwd: dir, store, env: { ...NO_CI, CC: cc.path, ...cc.env, ...env } }),
  };
}

/** The outputs of a clean `make` of `dir`'s sources in a copy elsewhere, by SHA-256. */
async function cleanOutputs(dir: string): Promise<Record<string, string>> {
  const copy = await tempDir('orchestrate-clean-');
  for (const path of Object.keys(TINY_SOURCES)) await cp(join(dir, path), join(copy, path));
  await execa('make', [], { cwd: copy, env: { CC: 'gcc' } });
  return treeDigest(copy, (path) => OUTPUTS.includes(path));
}

/** Runner B's build restored from the remote: exactly greet.c rebuilt, outputs equal a clean build's. */
async function expectIncremental(b: Runner, run: Run, from: string): Promise<void> {
  expect(run.exitCode, run.stderr).toBe(0);
  expect(run.json, run.stderr).toMatchObject({
    mode: 'incremental',
    restoredFrom: from,
    remoteError: null,
    changes: { modified: ['greet.c'] },
  });
  expect(run.json?.['bytesDown']).toBeGreaterThan(0);
  expect(run.json?.['bytesUp']).toBe(0);
  expect(await cc.units()).toEqual(['greet.c']);
  expect(await treeDigest(b.dir, (path) => OUTPUTS.includes(path))).toEqual(await cleanOutputs(b.dir));
}

/** Every file the server keeps, by SHA-256: "nothing written" checks. */
const serverState = (server: RunningServer) => treeDigest(server.dataDir);

/** The tags of `repository` in the registry's storage. */
const tags = (repository: string) =>
  readdir(join(registry.dataDir, 'docker/registry/v2/repositories', repository, '_manifests/tags')).catch(() => [] as string[]);

describe('two runners through an OCI registry', () => {
  it('runner A builds and pushes; runner B, empty store elsewhere, restores it and rebuilds exactly the edited unit; read mode writes nothing', async () => {
    const a = await runner('share', 'a');
    const pushed = await a.run(['build', '--remote', oci('team/share'), '--remote-mode', 'read-write', '--scope', 'main']);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    expect(pushed.json).toMatchObject({
      mode: 'full',
      remoteError: expect.stringMatching(/no checkpoint of this fingerprint in scopes 'main'/),
      bytesDown: 0,
    });
    expect(pushed.json?.['bytesUp']).toBeGreaterThan(0);
    expect(await tags('team/share')).toHaveLength(1);

    const before = await serverState(registry);
    const b = await runner('share', 'b', 'from b');
    await cc.reset();
    // No scope of its own (a local build): it reads the trusted scope, main, and the remote only reads.
    const pulled = await b.run(['build', '--remote', oci('team/share')]);
    await expectIncremental(b, pulled, oci('team/share'));
    expect(pulled.json?.['restored']).toBe(pushed.json?.['saved']);
    expect((await execa('./hello', { cwd: b.dir })).stdout).toBe('from b');
    expect(await serverState(registry)).toEqual(before);

    // The local store now holds it: the next build asks no remote at all.
    await cc.reset();
    const again = await b.run(['build', '--remote', oci('team/share')]);
    expect(again.json).toMatchObject({ mode: 'incremental', restoredFrom: b.store, bytesDown: 0, remoteError: null });
    expect(await cc.units()).toEqual([]);
  });

  it('push, list --remote and pull: by id or the newest; push refuses in read mode, writing nothing', async () => {
    const a = await runner('commands', 'a');
    const built = await a.run(['build']);
    expect(built.exitCode, built.stderr).toBe(0);
    const id = built.json?.['saved'] as string;

    const before = await serverState(registry);
    const refused = await a.run(['push', '--remote', oci('team/commands'), '--scope', 'main']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.json?.['error']?.message).toMatch(/read-only \(pass --remote-mode read-write/);
    expect(await serverState(registry)).toEqual(before);

    const push = await a.run(['push', id.slice(0, 10), '--remote', oci('team/commands'), '--remote-mode', 'read-write', '--scope', 'main']);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(push.json).toMatchObject({ command: 'push', id, scope: 'main' });

    const b = await runner('commands', 'b', 'pulled');
    const listed = await b.run(['list', '--remote', oci('team/commands')]);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.json?.['checkpoints']).toEqual([expect.objectContaining({ id, scope: 'main' })]);
    const pull = await b.run(['pull', '--remote', oci('team/commands')]);
    expect(pull.exitCode, pull.stderr).toBe(0);
    expect(pull.json).toMatchObject({ command: 'pull', id, scope: 'main', store: b.store });
    expect(pull.json?.['bytesDown']).toBeGreaterThan(0);
    const missing = await b.run(['pull', 'ffff', '--remote', oci('team/commands')]);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.json?.['error']?.message).toMatch(/no checkpoint of 'commands' named 'ffff'/);

    // Pulled, it is a local checkpoint: no remote needed.
    await cc.reset();
    const local = await b.run(['build']);
    expect(local.json).toMatchObject({ mode: 'incremental', restored: id, restoredFrom: b.store, changes: { modified: ['greet.c'] } });
    expect(await cc.units()).toEqual(['greet.c']);
  });

  it("a pull request's checkpoint is never restored by a main build", async () => {
    const pr = await runner('scopes', 'pr');
    const pushed = await pr.run(['build', '--remote', oci('team/scopes'), '--remote-mode', 'read-write'], {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: 'refs/pull/7/merge',
    });
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    expect(pushed.json?.['bytesUp']).toBeGreaterThan(0);

    const main = await runner('scopes', 'main', 'main');
    const run = await main.run(['build', '--no-save', '--remote', oci('team/scopes')], {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/heads/main',
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null, bytesDown: 0 });
    expect(run.json?.['remoteError']).toMatch(/no checkpoint of this fingerprint in scopes 'main'/);
    // The same pull request's next build does restore it: the scopes are what keeps main apart.
    const again = await runner('scopes', 'pr2', 'pr again');
    const same = await again.run(['build', '--no-save', '--remote', oci('team/scopes'), '--scope', 'pr-7']);
    expect(same.json).toMatchObject({ mode: 'incremental', restored: pushed.json?.['saved'] });
  });

  it('with verification keys, unsigned and wrongly signed checkpoints are ignored and the build says so', async () => {
    const good = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const signingKey = good.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const a = await runner('keys', 'a');
    const write = ['--remote-mode', 'read-write', '--scope', 'main'];
    expect(
      (await a.run(['build', '--remote', oci('team/signed'), ...write], { ORCHESTRATE_SIGNING_KEY: signingKey })).json?.['remoteError'],
    ).toMatch(/no checkpoint/);
    expect((await a.run(['push', '--remote', oci('team/unsigned'), ...write])).exitCode).toBe(0);

    const b = await runner('keys', 'b', 'keyed');
    const verify = (key: typeof good.publicKey) => ({ ORCHESTRATE_VERIFY_KEYS: publicKeyBase64(key) });
    const unsigned = await b.run(['build', '--no-save', '--remote', oci('team/unsigned')], verify(good.publicKey));
    expect(unsigned.json).toMatchObject({ mode: 'full', restored: null });
    expect(unsigned.json?.['remoteError']).toMatch(/unsigned and verification keys are configured/);
    expect(unsigned.stderr).toMatch(/remote: .*unsigned and verification keys are configured/);

    const wrong = await b.run(['build', '--no-save', '--remote', oci('team/signed')], verify(other.publicKey));
    expect(wrong.json).toMatchObject({ mode: 'full', restored: null });
    expect(wrong.json?.['remoteError']).toMatch(/not a configured verification key/);

    await cc.reset();
    // A fresh tree: the full builds above left outputs no checkpoint of this store vouches for.
    const c = await runner('keys', 'c', 'keyed');
    const signed = await c.run(['build', '--no-save', '--remote', oci('team/signed')], verify(good.publicKey));
    await expectIncremental(c, signed, oci('team/signed'));
    expect(await storeManifests(c.store)).toHaveLength(1);
  });

  it('a registry that drops the connection mid-upload leaves no tag pointing at missing data; the build succeeds and says why', async () => {
    const a = await runner('dropped', 'a');
    // A whole push's bytes, measured through a proxy that drops nothing.
    const counting = await startTcpProxy(registry.port);
    try {
      const measured = await a.run([
        'build',
        '--remote',
        oci('team/measure', counting.port),
        '--remote-mode',
        'read-write',
        '--scope',
        'main',
      ]);
      expect(measured.json?.['bytesUp']).toBeGreaterThan(0);
    } finally {
      await counting.stop();
    }
    await writeFile(join(a.dir, 'main.c'), `${TINY_SOURCES['main.c']}/* another state */\n`);
    const dropping = await startTcpProxy(registry.port, { dropAfter: Math.floor(counting.bytesUp() / 2) });
    let run: Run;
    try {
      run = await a.run(['build', '--remote', oci('team/dropped', dropping.port), '--remote-mode', 'read-write', '--scope', 'main']);
    } finally {
      await dropping.stop();
    }
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json?.['saved']).toMatch(/^[0-9a-f]{64}$/);
    expect(run.json?.['remoteError']).toMatch(/cannot push the checkpoint/);
    expect(run.stderr).toMatch(/remote: .*cannot push the checkpoint/);
    expect(await tags('team/dropped')).toEqual([]);
    const listed = await a.run(['list', '--remote', oci('team/dropped')]);
    expect(listed.json?.['checkpoints']).toEqual([]);
  });

  it('a flipped byte on the server is caught before anything is written to the local store', async () => {
    const a = await runner('flipped', 'a');
    const pushed = await a.run(['build', '--remote', oci('team/flipped'), '--remote-mode', 'read-write', '--scope', 'main']);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    // Another runner's identical objects may make the same pack: it is put back afterwards.
    // The pack: the largest layer of the tag's OCI manifest, in the registry's storage.
    const [tag] = await tags('team/flipped');
    const link = await readFile(
      join(registry.dataDir, 'docker/registry/v2/repositories/team/flipped/_manifests/tags', tag!, 'current/link'),
      'utf8',
    );
    const blob = (digest: string) => join(registry.dataDir, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data');
    const manifest = JSON.parse(await readFile(blob(link.trim()), 'utf8')) as { layers: { digest: string; size: number }[] };
    const pack = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
    const largest = blob(pack.digest);
    const before = await readFile(largest);
    const flipped = Buffer.from(before);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x01;
    await writeFile(largest, flipped);
    try {
      const b = await runner('flipped', 'b', 'flip');
      const run = await b.run(['build', '--no-save', '--remote', oci('team/flipped')]);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json).toMatchObject({ mode: 'full', restored: null });
      expect(run.json?.['remoteError']).toMatch(/does not match its digest/);
      expect(await storeBlobs(b.store)).toEqual([]);
      expect(await storeManifests(b.store)).toEqual([]);
    } finally {
      await writeFile(largest, before);
    }
  });

  it('lookups go local, then --store-from, then the remote: a read-only layer serves the build unchanged and the remote is not asked', async () => {
    const a = await runner('order', 'a');
    expect((await a.run(['build', '--remote', oci('team/order'), '--remote-mode', 'read-write', '--scope', 'main'])).exitCode).toBe(0);
    await chmod(a.store, 0o555);
    const before = await treeDigest(a.store);
    const b = await runner('order', 'b', 'layered');
    await cc.reset();
    const run = await b.run(['build', '--store-from', a.store, '--remote', oci('team/order')]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'incremental', restoredFrom: a.store, bytesDown: 0, remoteError: null });
    expect(await cc.units()).toEqual(['greet.c']);
    expect(await treeDigest(a.store)).toEqual(before);
    await chmod(a.store, 0o755);
  });
});

describe('two runners through an HTTP cache (nginx WebDAV)', () => {
  it('runner A pushes, runner B restores with the exact rebuild set; read mode writes nothing', async () => {
    const url = `http://127.0.0.1:${nginx.port}/orchestrate`;
    const a = await runner('webdav', 'a');
    const pushed = await a.run(['build', '--remote', url, '--remote-mode', 'read-write', '--scope', 'main']);
    expect(pushed.exitCode, pushed.stderr).toBe(0);
    expect(pushed.json?.['bytesUp']).toBeGreaterThan(0);
    const before = await serverState(nginx);
    const b = await runner('webdav', 'b', 'over http');
    await cc.reset();
    await expectIncremental(b, await b.run(['build', '--remote', url]), url);
    expect(await serverState(nginx)).toEqual(before);
  });
});

describe('maxSize', () => {
  it('bounds the store after a save, least recently used checkpoints first: a restore counts as a use', async () => {
    const a = await runner('bounded', 'a');
    const greet = (word: string) => writeFile(join(a.dir, 'greet.c'), TINY_SOURCES['greet.c']!.replace('"hello"', `"${word}"`));
    const saved: Record<string, string> = {};
    for (const word of ['one', 'two', 'three']) {
      await greet(word);
      const run = await a.run(['build']);
      expect(run.exitCode, run.stderr).toBe(0);
      saved[word] = run.json?.['saved'] as string;
    }
    const objectBytes = async () => {
      let total = 0;
      for (const path of await listTree(join(a.store, 'objects'))) total += (await readFile(join(a.store, 'objects', path))).length;
      return total;
    };
    let manifestBytes = 0;
    for (const file of await storeManifests(a.store)) manifestBytes += (await readFile(file)).length;
    // Room for the three checkpoints and a little more: the fourth pushes one out.
    const bound = (await objectBytes()) + manifestBytes + 2000;
    // Checkpoint one is used again (restored); the next build restores three (the newest of equals).
    await greet('one');
    const restore = await a.run(['restore']);
    expect(restore.json).toMatchObject({ mode: 'incremental', restored: saved['one'] });

    await greet('four');
    // Blobs younger than 2 s may belong to a capture in progress elsewhere, and stay (see LocalStore.trim).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const run = await a.run(['build', '--max-size', String(bound)]);
    expect(run.exitCode, run.stderr).toBe(0);
    const left = (await storeManifests(a.store)).map((file) => file.slice(-69, -5)).sort();
    // In order of creation, one would have gone; by use, two goes.
    expect(run.json?.['restored']).toBe(saved['three']);
    expect(left).toEqual([saved['one'], saved['three'], run.json?.['saved']].sort());
    expect(await objectBytes()).toBeLessThanOrEqual(bound);
    // What is left restores whole.
    await greet('one');
    expect((await a.run(['restore'])).json).toMatchObject({ mode: 'incremental', restored: saved['one'] });
  });
});

/** The `orchestrate …` lines of a recipe of docs/ci.md (or its whole block, for a shell recipe). */
async function recipe(name: string): Promise<{ kind: string; script: string }> {
  const text = await readFile(join(import.meta.dirname, '../../../docs/ci.md'), 'utf8');
  const match = new RegExp(`<!-- recipe: ${name} -->\\n\`\`\`(\\w+)\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!match) throw new Error(`docs/ci.md has no recipe '${name}'`);
  const [, kind = '', block = ''] = match;
  if (kind === 'sh') return { kind, script: block };
  const lines = block.split('\n').flatMap((line) => /^\s*(?:-\s+)?(?:run:\s+)?(orchestrate\s.*)$/.exec(line)?.[1] ?? []);
  expect(lines.length, `recipe '${name}' runs orchestrate`).toBeGreaterThan(0);
  return { kind, script: lines.join('\n') };
}

/** Runs a recipe's script in a runner's project, `orchestrate` on the PATH, with the CI's variables in `env`. */
async function runRecipe(script: string, r: Runner, env: Record<string, string>): Promise<Run> {
  const bin = join(root, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'orchestrate'), `#!/bin/sh\nexec "${process.execPath}" "${CLI_BIN}" "$@"\n`);
  await chmod(join(bin, 'orchestrate'), 0o755);
  const report = join(r.dir, '..', 'report.json');
  const result = await execa('sh', ['-e', '-c', script], {
    cwd: r.dir,
    reject: false,
    stdin: 'ignore',
    env: { ...NO_CI, CI: 'true', PATH: `${bin}:${process.env['PATH']}`, CC: cc.path, ...cc.env, ORCHESTRATE_REPORT: report, ...env },
  });
  // Every recipe's build writes its report where the test reads it (ORCHESTRATE_REPORT is not a flag of the recipes).
  const json = await readFile(report, 'utf8').then(
    (t) => JSON.parse(t) as Record<string, any>,
    () => undefined,
  );
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), json, ms: 0 };
}

describe('the recipes of docs/ci.md, as two runners', () => {
  /** Runner A builds the default branch; runner B, another directory and store, a change on top. */
  const twoRunners = async (
    name: string,
    envA: Record<string, string>,
    envB: Record<string, string>,
    options: { between?: (a: Runner, b: Runner) => Promise<void>; rewrite?: (script: string) => string } = {},
  ) => {
    const { script: written } = await recipe(name);
    const script = options.rewrite?.(written) ?? written;
    const a = await runner(`recipe-${name}`, 'a');
    const b = await runner(`recipe-${name}`, 'b', `recipe ${name}`);
    const first = await runRecipe(script, a, { ORCHESTRATE_STORE: a.store, ...envA });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json, first.stderr).toMatchObject({ mode: 'full' });
    await options.between?.(a, b);
    await cc.reset();
    const second = await runRecipe(script, b, { ORCHESTRATE_STORE: b.store, ...envB });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.json, second.stderr).toMatchObject({
      mode: 'incremental',
      restored: first.json?.['saved'],
      changes: { modified: ['greet.c'] },
    });
    expect(await cc.units()).toEqual(['greet.c']);
    expect(await treeDigest(b.dir, (path) => OUTPUTS.includes(path))).toEqual(await cleanOutputs(b.dir));
    return { first, second };
  };

  it('GitHub Actions with the store in actions/cache: the cache carries the store from runner to runner', async () => {
    await twoRunners(
      'github-cache',
      {},
      {},
      {
        // actions/cache: saved after runner A's job, restored before runner B's (by the restore key).
        between: (a, b) => cp(a.store, b.store, { recursive: true }),
      },
    );
  });

  it("GitHub Actions with the repository's registry: main writes, the pull request reads and writes nothing", async () => {
    const github = { GITHUB_ACTIONS: 'true', ORCHESTRATE_REMOTE: oci('acme/app/orchestrate-cache') };
    let before: Record<string, string> = {};
    const { second } = await twoRunners(
      'github-registry',
      // What the recipe's env expressions give on a push to main…
      {
        ...github,
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/heads/main',
        GITHUB_REF_NAME: 'main',
        ORCHESTRATE_REMOTE_MODE: 'read-write',
      },
      // …and on a pull request.
      { ...github, GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/12/merge', ORCHESTRATE_REMOTE_MODE: 'read' },
      {
        between: async () => {
          before = await serverState(registry);
        },
      },
    );
    expect(second.json?.['restoredFrom']).toBe(oci('acme/app/orchestrate-cache'));
    expect(await serverState(registry)).toEqual(before);
  });

  it('GitLab CI with the project registry: the default branch writes, the merge request reads', async () => {
    const gitlab = { GITLAB_CI: 'true', CI_DEFAULT_BRANCH: 'main', ORCHESTRATE_REMOTE: oci('group/project/orchestrate-cache') };
    const { first, second } = await twoRunners('gitlab', { ...gitlab, CI_COMMIT_BRANCH: 'main' }, { ...gitlab, CI_MERGE_REQUEST_IID: '3' });
    expect(first.json?.['bytesUp']).toBeGreaterThan(0);
    expect(second.json?.['bytesUp']).toBe(0);
  });

  it('any CI with a Bazel-style HTTP cache: the default branch writes, a change reads', async () => {
    const local = `http://127.0.0.1:${nginx.port}/recipe`;
    const { first, second } = await twoRunners(
      'http-cache',
      { BRANCH: 'main', CACHE_TOKEN: '' },
      { BRANCH: 'feature', CHANGE_ID: '5', CACHE_TOKEN: '' },
      {
        // The recipe's cache, replaced by the test's nginx.
        rewrite: (script) => {
          expect(script).toContain('https://cache.example.com/orchestrate');
          return script.replace('https://cache.example.com/orchestrate', local);
        },
      },
    );
    expect(first.json?.['bytesUp']).toBeGreaterThan(0);
    expect(second.json?.['restoredFrom']).toBe(local);
  });
});
