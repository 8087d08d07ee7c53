/**
 * Real servers for the remote-store tests, started on 127.0.0.1 only:
 * Debian's docker-registry (CNCF Distribution) with filesystem storage in a
 * temporary directory (optionally behind htpasswd basic auth), nginx with
 * WebDAV as a Bazel-style HTTP cache, and a TCP proxy that counts bytes or
 * drops connections. `.ci/install-test-servers` installs the servers; a
 * missing one fails the test with a message saying so.
 */
import { execa } from 'execa';

/** What these helpers need of a started server process (any execa options). */
type ServerProcess = Promise<unknown> & { kill(signal?: NodeJS.Signals): boolean };
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '@orchestrate/core/testing';

const REGISTRY_BIN = '/usr/bin/docker-registry';
const NGINX_BIN = '/usr/sbin/nginx';
const HTPASSWD_BIN = '/usr/bin/htpasswd';

function requireBinary(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`${what} is not installed (${path} is missing): run .ci/install-test-servers (as root) first`);
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `url` answers at all (any status), or the process exits, or 20 s pass. */
async function waitForHttp(url: string, child: ServerProcess, log: () => string): Promise<void> {
  let exited = false;
  child.then(
    () => (exited = true),
    () => (exited = true),
  );
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`server at ${url} did not start${exited ? ' (it exited)' : ''}:\n${log()}`);
}

export interface RunningServer {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly port: number;
  /** Where the server keeps what it is sent. */
  readonly dataDir: string;
  stop(): Promise<void>;
}

async function stopChild(child: ServerProcess): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child.catch(() => undefined);
  clearTimeout(timer);
}

/**
 * Starts docker-registry on a free loopback port with filesystem storage in a
 * temporary directory; with `auth`, behind htpasswd basic auth.
 */
export async function startRegistry(options: { auth?: { username: string; password: string } } = {}): Promise<RunningServer> {
  requireBinary(REGISTRY_BIN, 'docker-registry');
  const dir = await tempDir('orchestrate-registry-');
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${dataDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: test-secret-${port}`,
  ];
  if (options.auth) {
    requireBinary(HTPASSWD_BIN, 'htpasswd (apache2-utils)');
    const { stdout } = await execa(HTPASSWD_BIN, ['-Bbn', options.auth.username, options.auth.password]);
    await writeFile(join(dir, 'htpasswd'), `${stdout.trim()}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: orchestrate-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  const config = join(dir, 'config.yml');
  await writeFile(config, `${lines.join('\n')}\n`);
  let output = '';
  // Its environment stripped of REGISTRY_* variables, which would override the config.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('REGISTRY_')));
  const child = execa(REGISTRY_BIN, ['serve', config], { env, extendEnv: false, reject: false, stdin: 'ignore', all: true, buffer: false });
  child.all?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  await waitForHttp(`http://127.0.0.1:${port}/v2/`, child, () => output);
  return { host: `127.0.0.1:${port}`, port, dataDir, stop: () => stopChild(child) };
}

/** Starts nginx with WebDAV PUT on a free loopback port, serving a temporary directory: a Bazel-style HTTP cache. */
export async function startNginxCache(): Promise<RunningServer> {
  requireBinary(NGINX_BIN, 'nginx');
  const dir = await tempDir('orchestrate-nginx-');
  const dataDir = join(dir, 'root');
  await mkdir(dataDir, { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  const port = await freePort();
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];
  for (const name of temps) await mkdir(join(dir, name), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    [
      'daemon off;',
      'worker_processes 1;',
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'logs', 'error.log')} warn;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      ...temps.map((name) => `  ${name}_temp_path ${join(dir, name)};`),
      '  client_max_body_size 0;',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      `    root ${dataDir};`,
      '    location / {',
      '      dav_methods PUT DELETE;',
      '      create_full_put_path on;',
      '      dav_access user:rw group:r all:r;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const vOutput = await execa(NGINX_BIN, ['-V'], { reject: false, all: true });
  if (!String(vOutput.all).includes('--with-http_dav_module'))
    throw new Error('nginx lacks the WebDAV module (http_dav_module): run .ci/install-test-servers');
  let output = '';
  const child = execa(NGINX_BIN, ['-p', dir, '-c', conf, '-e', join(dir, 'logs', 'error.log')], {
    reject: false,
    stdin: 'ignore',
    all: true,
    buffer: false,
  });
  child.all?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  await waitForHttp(`http://127.0.0.1:${port}/`, child, () => output);
  return { host: `127.0.0.1:${port}`, port, dataDir, stop: () => stopChild(child) };
}

export interface TcpProxy {
  readonly port: number;
  /** Bytes sent from clients to the server so far. */
  readonly bytesUp: () => number;
  stop(): Promise<void>;
}

/**
 * A TCP proxy on loopback to `target`. With `dropAfter`, every connection is
 * cut (both sides destroyed) once clients have sent that many bytes in all,
 * and later connections are cut at once: a registry dropping mid-upload.
 */
export async function startTcpProxy(targetPort: number, options: { dropAfter?: number } = {}): Promise<TcpProxy> {
  let up = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    if (options.dropAfter !== undefined && up >= options.dropAfter) {
      cut();
      return;
    }
    client.on('data', (chunk: Buffer) => {
      if (options.dropAfter !== undefined && up + chunk.length > options.dropAfter) {
        const allowed = options.dropAfter - up;
        up = options.dropAfter;
        if (allowed > 0) upstream.write(chunk.subarray(0, allowed), cut);
        else cut();
        return;
      }
      up += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    bytesUp: () => up,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
