/**
 * The remote stores against real servers on 127.0.0.1: docker-registry (CNCF
 * Distribution, without and with basic auth) and nginx with WebDAV as a
 * Bazel-style HTTP cache. Checkpoints are real: saved by the real CLI building
 * the tiny make project, read back from a real LocalStore.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listTree, tempDir } from '@orchestrate/core/testing';
import type { CheckpointManifest } from '../src/checkpoint/manifest.js';
import { LocalStore } from '../src/store/local-store.js';
import { HttpCacheStore } from '../src/store/remote/http-cache-store.js';
import { OciStore, type OciStoreOptions } from '../src/store/remote/oci-store.js';
import { RemoteError, type RemoteStore } from '../src/store/remote/remote-store.js';
import { publicKeyBase64, loadKeys } from '../src/store/remote/signature.js';
import { orchestrateInProcess, storeBlobs, storeManifests, tinyProject } from './helpers.js';
import { startNginxCache, startRegistry, startTcpProxy, type RunningServer } from './remote-servers.js';

interface Checkpoints {
  store: LocalStore;
  first: CheckpointManifest;
  second: CheckpointManifest;
}

/** Two real checkpoints of the tiny project: a full build, then one after an edit of greet.c. */
async function realCheckpoints(): Promise<Checkpoints> {
  const { dir, store } = await tinyProject();
  const one = await orchestrateInProcess(['build'], { cwd: dir, store });
  expect(one.exitCode, one.stderr).toBe(0);
  await writeFile(join(dir, 'greet.c'), '#include "greet.h"\nconst char *greeting(void) { return "hello again"; }\n');
  const two = await orchestrateInProcess(['build'], { cwd: dir, store });
  expect(two.exitCode, two.stderr).toBe(0);
  const local = await LocalStore.open(store);
  const loaded = await local.loadCheckpoints();
  const manifests = loaded.flatMap((item) => (item.error === undefined ? [item.manifest] : []));
  expect(manifests).toHaveLength(2);
  // Newest first.
  return { store: local, first: manifests[1]!, second: manifests[0]! };
}

function blobsOf(manifest: CheckpointManifest): Set<string> {
  return new Set(Object.values(manifest.state).flatMap((record) => (record.blob === undefined ? [] : [record.blob])));
}

/** Every file below `dir` with its bytes, for "nothing changed" checks. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of await listTree(dir)) out[path] = (await readFile(join(dir, path))).toString('base64');
  return out;
}

async function emptyStore(): Promise<LocalStore> {
  return LocalStore.open(join(await tempDir('orchestrate-runner-b-'), 'another', 'store'));
}

let checkpoints: Checkpoints;

beforeAll(async () => {
  checkpoints = await realCheckpoints();
});

interface Kind {
  name: string;
  start(): Promise<RunningServer>;
  /** A store on `server` under `name` (a repository, a prefix), through `port` when given (a proxy). */
  open(server: RunningServer, name: string, options?: OciStoreOptions & { port?: number }): RemoteStore;
  /** The files of one pack (or any blob) on the server's disk. */
  blobFile(server: RunningServer, name: string, digest: string): string;
  /** True when the remote has any pointer (tag, index entry) under `name`. */
  hasPointers(server: RunningServer, name: string): Promise<boolean>;
}

const kinds: Kind[] = [
  {
    name: 'OCI registry (docker-registry)',
    start: () => startRegistry(),
    open: (server, name, options = {}) =>
      new OciStore(`oci+http://127.0.0.1:${options.port ?? server.port}/${name}`, { env: {}, ...options }),
    blobFile: (server, _name, digest) => join(server.dataDir, 'docker/registry/v2/blobs/sha256', digest.slice(0, 2), digest, 'data'),
    hasPointers: async (server, name) => {
      const tags = await readdir(join(server.dataDir, 'docker/registry/v2/repositories', name, '_manifests/tags')).catch(() => []);
      return tags.length > 0;
    },
  },
  {
    name: 'HTTP cache (nginx WebDAV)',
    start: () => startNginxCache(),
    open: (server, name, options = {}) =>
      new HttpCacheStore(`http://127.0.0.1:${options.port ?? server.port}/${name}`, { env: {}, ...options }),
    blobFile: (server, name, digest) => join(server.dataDir, name, 'cas', digest),
    hasPointers: async (server, name) => (await readdir(join(server.dataDir, name, 'ac')).catch(() => [])).length > 0,
  },
];

describe.each(kinds)('$name', (kind) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await kind.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const query = (manifest: CheckpointManifest, scopes: string[]) => ({
    project: manifest.project,
    fingerprint: manifest.fingerprint,
    scopes,
  });

  test('a pushed checkpoint is listed, and fetched into an empty store at another path with every blob byte-equal', async () => {
    const remote = kind.open(server, 'share', { readWrite: true });
    const { first } = checkpoints;
    const pushed = await remote.pushCheckpoint(first, checkpoints.store, 'main');
    expect(pushed.packsUp).toBe(pushed.packsTotal);
    expect(pushed.bytesUp).toBeGreaterThan(0);

    const reader = kind.open(server, 'share');
    const found = await reader.findCheckpoints(query(first, ['main']));
    expect(found.map((info) => [info.id, info.scope])).toEqual([[pushed.id, 'main']]);

    const target = await emptyStore();
    const result = await reader.fetchCheckpoint(found[0]!, target);
    expect(result.blobsWritten).toBe(blobsOf(first).size);
    for (const blob of blobsOf(first)) {
      expect((await target.readBlob(blob)).equals(await checkpoints.store.readBlob(blob))).toBe(true);
    }
    const loaded = await target.loadCheckpoints(first.project);
    expect(loaded).toHaveLength(1);
    expect(loaded[0]!.error).toBeUndefined();
    expect(loaded[0]!.error === undefined && loaded[0]!.manifest).toEqual(first);
  });

  test('a rolling push uploads only the packs the remote lacks, and a fetch downloads only the packs the local store lacks', async () => {
    // One blob per pack, so reuse shows pack by pack.
    const remote = kind.open(server, 'rolling', { readWrite: true, packSize: 1 });
    const { first, second } = checkpoints;
    const one = await remote.pushCheckpoint(first, checkpoints.store, 'main');
    expect(one.packsUp).toBe(blobsOf(first).size);
    const fresh = [...blobsOf(second)].filter((blob) => !blobsOf(first).has(blob));
    expect(fresh.length).toBeGreaterThan(0);
    const two = await remote.pushCheckpoint(second, checkpoints.store, 'main');
    expect(two.packsTotal).toBe(blobsOf(second).size);
    expect(two.packsUp).toBe(fresh.length);
    // Less than the same checkpoint pushed where nothing is there yet.
    const full = await kind
      .open(server, 'rolling-full', { readWrite: true, packSize: 1 })
      .pushCheckpoint(second, checkpoints.store, 'main');
    expect(full.packsUp).toBe(blobsOf(second).size);
    expect(two.bytesUp).toBeLessThan(full.bytesUp);

    // Runner B has the first checkpoint; the second costs only the new packs.
    const target = await emptyStore();
    const [newest, older] = await remote.findCheckpoints(query(first, ['main']));
    expect(newest!.id).toBe(two.id);
    await remote.fetchCheckpoint(older!, target);
    const result = await remote.fetchCheckpoint(newest!, target);
    expect(result.packsDown).toBe(fresh.length);
    expect(result.blobsWritten).toBe(fresh.length);
  });

  test('the default read-only mode writes nothing: a push is refused, a fetch sends no write', async () => {
    const before = await snapshot(server.dataDir);
    const remote = kind.open(server, 'share');
    expect(remote.readOnlyReason).toMatch(/read-only/);
    await expect(remote.pushCheckpoint(checkpoints.second, checkpoints.store, 'main')).rejects.toThrow(/read-only/);
    const [info] = await remote.findCheckpoints(query(checkpoints.first, ['main']));
    await remote.fetchCheckpoint(info!, await emptyStore());
    const requests = remote instanceof OciStore ? remote.client.requests : (remote as HttpCacheStore).requests;
    expect((requests['PUT'] ?? 0) + (requests['POST'] ?? 0) + (requests['PATCH'] ?? 0) + (requests['DELETE'] ?? 0)).toBe(0);
    expect(await snapshot(server.dataDir)).toEqual(before);
  });

  test("a pull request's checkpoint is never listed for a build reading main", async () => {
    const remote = kind.open(server, 'scopes', { readWrite: true });
    await remote.pushCheckpoint(checkpoints.first, checkpoints.store, 'pr-7');
    expect(await remote.findCheckpoints(query(checkpoints.first, ['main']))).toEqual([]);
    const mine = await remote.findCheckpoints(query(checkpoints.first, ['pr-7', 'main']));
    expect(mine.map((info) => info.scope)).toEqual(['pr-7']);
  });

  test('with verification keys, unsigned checkpoints and those signed by another key are refused with the reason; a good signature passes', async () => {
    const good = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const signed = kind.open(server, 'signed', { readWrite: true, signingKey: good.privateKey });
    await signed.pushCheckpoint(checkpoints.first, checkpoints.store, 'main');
    const unsigned = kind.open(server, 'unsigned', { readWrite: true });
    await unsigned.pushCheckpoint(checkpoints.first, checkpoints.store, 'main');

    const { verifyKeys } = loadKeys({ ORCHESTRATE_VERIFY_KEYS: publicKeyBase64(good.publicKey) });
    const verifying = (name: string, keys = verifyKeys) => kind.open(server, name, { verifyKeys: keys });
    const [info] = await verifying('signed').findCheckpoints(query(checkpoints.first, ['main']));
    const loaded = await verifying('signed').loadCheckpoint(info!);
    expect(loaded.signedBy).toMatch(/^[0-9a-f]{16}$/);

    const [plain] = await verifying('unsigned').findCheckpoints(query(checkpoints.first, ['main']));
    await expect(verifying('unsigned').loadCheckpoint(plain!)).rejects.toThrow(/unsigned and verification keys are configured/);
    await expect(verifying('signed', [other.publicKey]).loadCheckpoint(info!)).rejects.toThrow(/not a configured verification key/);
    const target = await emptyStore();
    await expect(verifying('unsigned').fetchCheckpoint(plain!, target)).rejects.toBeInstanceOf(RemoteError);
    expect(await storeBlobs(target.location)).toEqual([]);
  });

  test('a flipped byte in a pack on the server is caught before anything is written to the local store', async () => {
    const remote = kind.open(server, 'flip', { readWrite: true });
    const pushed = await remote.pushCheckpoint(checkpoints.first, checkpoints.store, 'main');
    // The largest file the server keeps for this checkpoint is the pack.
    const root = kind.name.startsWith('OCI') ? join(server.dataDir, 'docker/registry/v2/blobs') : join(server.dataDir, 'flip', 'cas');
    let largest = '';
    let size = -1;
    for (const path of await listTree(root)) {
      const bytes = await readFile(join(root, path));
      if (bytes.length > size) [largest, size] = [join(root, path), bytes.length];
    }
    const bytes = await readFile(largest);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0x01;
    await writeFile(largest, bytes);

    const target = await emptyStore();
    const [info] = await remote.findCheckpoints(query(checkpoints.first, ['main']));
    expect(info!.id).toBe(pushed.id);
    const error = await remote.fetchCheckpoint(info!, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatch(/does not match its digest/);
    expect(await storeBlobs(target.location)).toEqual([]);
    expect(await storeManifests(target.location)).toEqual([]);
  });

  test('a connection dropped mid-upload leaves no pointer to missing data', async () => {
    // How many bytes a whole push sends, measured through a proxy that drops nothing.
    const counting = await startTcpProxy(server.port);
    try {
      await kind
        .open(server, 'measure', { readWrite: true, port: counting.port, chunkSize: 4096 })
        .pushCheckpoint(checkpoints.first, checkpoints.store, 'main');
    } finally {
      await counting.stop();
    }
    const dropping = await startTcpProxy(server.port, { dropAfter: Math.floor(counting.bytesUp() / 2) });
    try {
      const remote = kind.open(server, 'dropped', { readWrite: true, port: dropping.port, chunkSize: 4096, timeoutMs: 10_000 });
      await expect(remote.pushCheckpoint(checkpoints.first, checkpoints.store, 'main')).rejects.toBeInstanceOf(RemoteError);
    } finally {
      await dropping.stop();
    }
    expect(await kind.open(server, 'dropped').findCheckpoints(query(checkpoints.first, ['main']))).toEqual([]);
    expect(await kind.hasPointers(server, 'dropped')).toBe(false);
  });
});

test('a remote that does not answer is a failure with the reason once its time is out, not a hang', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  try {
    for (const remote of [
      new OciStore(`oci+http://127.0.0.1:${port}/x`, { env: {}, timeoutMs: 300 }),
      new HttpCacheStore(`http://127.0.0.1:${port}/x`, { env: {}, timeoutMs: 300 }),
    ]) {
      const error = await remote.findCheckpoints({ project: 'p', fingerprint: {}, scopes: ['main'] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteError);
      expect((error as Error).message).toMatch(/no answer within 300 ms/);
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

describe('OCI registry with basic auth (htpasswd)', () => {
  let server: RunningServer;
  const auth = { username: 'runner', password: 's3cret-pass' };
  beforeAll(async () => {
    server = await startRegistry({ auth });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('ORCHESTRATE_REGISTRY_USER/PASSWORD authenticate a push and a fetch', async () => {
    const env = { ORCHESTRATE_REGISTRY_USER: auth.username, ORCHESTRATE_REGISTRY_PASSWORD: auth.password };
    const remote = new OciStore(`oci+http://${server.host}/team/cache`, { env, readWrite: true });
    const pushed = await remote.pushCheckpoint(checkpoints.first, checkpoints.store, 'main');
    const [info] = await remote.findCheckpoints({
      project: checkpoints.first.project,
      fingerprint: checkpoints.first.fingerprint,
      scopes: ['main'],
    });
    expect(info!.id).toBe(pushed.id);
    const target = await emptyStore();
    const result = await remote.fetchCheckpoint(info!, target);
    expect(result.blobsWritten).toBe(blobsOf(checkpoints.first).size);
  });

  test('a pack larger than a chunk is uploaded in several PATCHes (chunked upload)', async () => {
    const env = { ORCHESTRATE_REGISTRY_USER: auth.username, ORCHESTRATE_REGISTRY_PASSWORD: auth.password };
    const remote = new OciStore(`oci+http://${server.host}/team/chunked`, { env, readWrite: true, chunkSize: 512 });
    const pushed = await remote.pushCheckpoint(checkpoints.first, checkpoints.store, 'main');
    expect(pushed.bytesUp).toBeGreaterThan(1024);
    expect(remote.client.requests['PATCH']).toBeGreaterThanOrEqual(Math.floor(pushed.bytesUp / 512));
    const [info] = await remote.findCheckpoints({
      project: checkpoints.first.project,
      fingerprint: checkpoints.first.fingerprint,
      scopes: ['main'],
    });
    const result = await remote.fetchCheckpoint(info!, await emptyStore());
    expect(result.blobsWritten).toBe(blobsOf(checkpoints.first).size);
  });

  test("the docker credential file's auths authenticate too", async () => {
    const dockerConfig = await tempDir('orchestrate-docker-config-');
    await mkdir(dockerConfig, { recursive: true });
    const encoded = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [server.host]: { auth: encoded } } }));
    const remote = new OciStore(`oci+http://${server.host}/team/cache`, { env: { DOCKER_CONFIG: dockerConfig } });
    const found = await remote.findCheckpoints({
      project: checkpoints.first.project,
      fingerprint: checkpoints.first.fingerprint,
      scopes: ['main'],
    });
    expect(found.length).toBeGreaterThan(0);
  });

  test('without credentials, a lookup fails with a reason naming what to set', async () => {
    const remote = new OciStore(`oci+http://${server.host}/team/cache`, { env: { HOME: await tempDir() } });
    const error = await remote.findCheckpoints({ project: 'p', fingerprint: {}, scopes: ['main'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatch(/ORCHESTRATE_REGISTRY_USER/);
    expect(existsSync(join(server.dataDir, 'docker'))).toBe(true);
  });
});
