/**
 * A client of the OCI distribution API (spec v1.1) over node's `fetch`: the
 * calls orchestrate needs, nothing registry-specific. No maintained npm client
 * fits (the ones there read only, or pull in request/restify and node-fetch
 * 2), so this one is ours.
 *
 *   HEAD/GET  /v2/<name>/blobs/<digest>
 *   POST      /v2/<name>/blobs/uploads/        then PATCH chunks (Content-Range), PUT ?digest=
 *   PUT/GET   /v2/<name>/manifests/<tag>       Content-Type/Accept: the OCI image manifest
 *   GET       /v2/<name>/tags/list?n=          paginated by the Link header
 *
 * Authentication: a 401's `WWW-Authenticate` says how. `Bearer` fetches a token
 * from the realm (with basic credentials when there are some, or a docker
 * identity token), `Basic` sends the credentials. Credentials come from
 * `ORCHESTRATE_REGISTRY_TOKEN` (a registry token, sent as is),
 * `ORCHESTRATE_REGISTRY_USER`/`ORCHESTRATE_REGISTRY_PASSWORD`, or the docker
 * credential file's `auths` (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`). Credentials never go to plain HTTP beyond loopback.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { digestOf, downloadTo, errorDetail, HttpError, readBounded, redact, request } from './http.js';

/** The OCI image manifest's media type. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Credentials for one registry host. */
export type RegistryCredentials =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'identity'; readonly refreshToken: string }
  | { readonly kind: 'none' };

/** True for a loopback host name or address. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * The credentials for `host` (`name[:port]`): the environment first, then the
 * docker credential file. Credential helpers (`credsStore`, `credHelpers`) are
 * not run: export `ORCHESTRATE_REGISTRY_*` instead.
 */
export function registryCredentials(host: string, env: Readonly<Record<string, string | undefined>>): RegistryCredentials {
  const token = env['ORCHESTRATE_REGISTRY_TOKEN'];
  if (token !== undefined && token !== '') return { kind: 'token', token };
  const username = env['ORCHESTRATE_REGISTRY_USER'];
  const password = env['ORCHESTRATE_REGISTRY_PASSWORD'];
  if (username !== undefined && username !== '' && password !== undefined) return { kind: 'basic', username, password };
  const dir = env['DOCKER_CONFIG'] ?? join(env['HOME'] ?? homedir(), '.docker');
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }> };
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as typeof config;
  } catch {
    return { kind: 'none' };
  }
  const auths = config.auths ?? {};
  // Keys are written as `host`, `https://host`, `https://host/v1/`, …
  const entry = Object.entries(auths).find(([key]) => key.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === host)?.[1];
  if (entry === undefined) return { kind: 'none' };
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') return { kind: 'identity', refreshToken: entry.identitytoken };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string')
    return { kind: 'basic', username: entry.username, password: entry.password };
  return { kind: 'none' };
}

/** Parses a `WWW-Authenticate` header: the scheme and its parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const match = /^\s*(\S+)\s*(.*)$/.exec(header);
  const scheme = (match?.[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  for (const [, key, quoted, bare] of (match?.[2] ?? '').matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[key!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? '');
  }
  return { scheme, params };
}

export interface OciClientOptions {
  /** `https://host[:port]` or `http://…` (plain HTTP: the caller decided it is allowed). */
  readonly base: string;
  /** The repository, `acme/ci-cache`. */
  readonly repository: string;
  readonly credentials: RegistryCredentials;
  readonly timeoutMs: number;
  /** Time allowed for a request that moves a pack. */
  readonly transferTimeoutMs: number;
  /** Bytes per PATCH of a chunked upload. @default 16 MiB */
  readonly chunkSize?: number;
  readonly debug?: (message: string) => void;
}

type Body = () => Buffer | Readable | undefined;

/** The distribution API of one repository; see the module's comment. */
export class OciClient {
  readonly #options: OciClientOptions;
  /** The Authorization header that worked last, per access (pull or push). */
  readonly #auth = new Map<string, string>();
  /** Requests sent, by method, for tests and debug output. */
  readonly requests = { HEAD: 0, GET: 0, POST: 0, PATCH: 0, PUT: 0, DELETE: 0 } as Record<string, number>;

  constructor(options: OciClientOptions) {
    this.#options = options;
  }

  #url(path: string): string {
    return `${this.#options.base}/v2/${this.#options.repository}/${path}`;
  }

  /** Basic credentials travel only over TLS or loopback. */
  #mayCarryCredentials(url: string): boolean {
    const u = new URL(url);
    return u.protocol === 'https:' || isLoopback(u.hostname);
  }

  /**
   * Sends a request, authenticating on a 401 and sending it once more.
   * Redirects are followed by hand, without credentials to another origin
   * (blob downloads redirect to storage).
   */
  async send(
    method: string,
    url: string,
    init: { headers?: Record<string, string>; body?: Body; push?: boolean; signal?: AbortSignal | undefined; transfer?: boolean } = {},
  ): Promise<Response> {
    const access = init.push === true ? 'push' : 'pull';
    const timeoutMs = init.transfer === true ? this.#options.transferTimeoutMs : this.#options.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...init.headers };
      const auth =
        this.#auth.get(access) ?? (this.#options.credentials.kind === 'token' ? `Bearer ${this.#options.credentials.token}` : undefined);
      if (auth !== undefined) headers['authorization'] = auth;
      this.requests[method] = (this.requests[method] ?? 0) + 1;
      let response = await request(url, {
        method,
        headers,
        body: init.body?.() ?? null,
        redirect: 'manual',
        timeoutMs,
        signal: init.signal,
      });
      for (let hops = 0; response.status >= 300 && response.status < 400 && response.headers.has('location') && hops < 5; hops++) {
        if (method !== 'GET' && method !== 'HEAD') break;
        const next = new URL(response.headers.get('location')!, url).toString();
        const sameOrigin = new URL(next).origin === new URL(url).origin;
        await response.body?.cancel();
        response = await request(next, {
          method,
          headers: sameOrigin ? headers : { ...init.headers },
          redirect: 'manual',
          timeoutMs,
          signal: init.signal,
        });
      }
      if (response.status !== 401 || attempt > 0) return response;
      const challenge = response.headers.get('www-authenticate');
      await response.body?.cancel();
      if (challenge === null) return response;
      this.#auth.set(access, await this.#authenticate(challenge, access));
    }
  }

  async #authenticate(header: string, access: 'pull' | 'push'): Promise<string> {
    const { scheme, params } = parseChallenge(header);
    const creds = this.#options.credentials;
    const registry = new URL(this.#options.base).host;
    if (scheme === 'basic') {
      if (creds.kind !== 'basic')
        throw new Error(
          `${registry} asks for basic credentials: set ORCHESTRATE_REGISTRY_USER and ORCHESTRATE_REGISTRY_PASSWORD, or log in with docker`,
        );
      if (!this.#mayCarryCredentials(this.#options.base)) throw new Error(`not sending credentials over plain HTTP to ${registry}`);
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (scheme !== 'bearer') throw new Error(`${registry} asks for an unknown authentication scheme '${scheme}'`);
    const realm = params['realm'];
    if (realm === undefined) throw new Error(`${registry}'s bearer challenge has no realm`);
    const url = new URL(realm, this.#options.base);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${registry}'s token realm '${redact(realm)}' is not HTTP`);
    const scope = access === 'push' ? `repository:${this.#options.repository}:pull,push` : `repository:${this.#options.repository}:pull`;
    if (params['service'] !== undefined) url.searchParams.set('service', params['service']);
    const headers: Record<string, string> = {};
    let response: Response;
    if (creds.kind === 'identity') {
      if (!this.#mayCarryCredentials(url.toString())) throw new Error(`not sending credentials over plain HTTP to ${url.host}`);
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.refreshToken, scope, client_id: 'orchestrate' });
      if (params['service'] !== undefined) form.set('service', params['service']);
      response = await request(url.toString(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        timeoutMs: this.#options.timeoutMs,
      });
    } else {
      url.searchParams.set('scope', scope);
      if (creds.kind === 'basic') {
        if (!this.#mayCarryCredentials(url.toString())) throw new Error(`not sending credentials over plain HTTP to ${url.host}`);
        headers['authorization'] = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      }
      response = await request(url.toString(), { method: 'GET', headers, timeoutMs: this.#options.timeoutMs });
    }
    if (!response.ok) throw new HttpError('GET', url.toString(), response.status, `token request refused: ${await errorDetail(response)}`);
    const body = JSON.parse((await readBounded(response, 1024 * 1024, 'the token response')).toString('utf8')) as {
      token?: unknown;
      access_token?: unknown;
    };
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (token === undefined) throw new Error(`${url.host}'s token response has no token`);
    return `Bearer ${token}`;
  }

  /** Throws an HttpError for an unexpected status. */
  async #expect(response: Response, method: string, url: string, ok: readonly number[]): Promise<Response> {
    if (ok.includes(response.status)) return response;
    throw new HttpError(method, url, response.status, await errorDetail(response));
  }

  async hasBlob(digest: string, push = false): Promise<boolean> {
    const url = this.#url(`blobs/sha256:${digest}`);
    const response = await this.send('HEAD', url, { push });
    if (response.status === 404) return false;
    await this.#expect(response, 'HEAD', url, [200]);
    return true;
  }

  async readBlob(digest: string, max: number, what: string): Promise<Buffer> {
    const url = this.#url(`blobs/sha256:${digest}`);
    const response = await this.#expect(await this.send('GET', url), 'GET', url, [200]);
    const bytes = await readBounded(response, max, what);
    const actual = digestOf(bytes);
    if (actual !== digest) throw new Error(`${what} does not match its digest sha256:${digest} (got sha256:${actual})`);
    return bytes;
  }

  async downloadBlob(digest: string, size: number, file: string, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
    const url = this.#url(`blobs/sha256:${digest}`);
    const response = await this.#expect(await this.send('GET', url, { signal, transfer: true }), 'GET', url, [200]);
    try {
      await downloadTo(response, file, { digest, size }, onBytes);
    } catch (error) {
      throw new Error(`blob sha256:${digest.slice(0, 12)}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Uploads a blob: POST to open a session, PATCH chunks with their
   * Content-Range, PUT with the digest to close it. A session that fails is
   * cancelled (DELETE), best effort. Returns the bytes sent.
   */
  async uploadBlob(digest: string, content: Buffer | { file: string; size: number }, signal?: AbortSignal): Promise<number> {
    const start = this.#url('blobs/uploads/');
    const opened = await this.#expect(
      await this.send('POST', start, { push: true, signal, headers: { 'content-length': '0' } }),
      'POST',
      start,
      [202],
    );
    let location = this.#location(opened, start);
    await opened.body?.cancel();
    const size = Buffer.isBuffer(content) ? content.length : content.size;
    const chunkSize = this.#options.chunkSize ?? 16 * 1024 * 1024;
    let sent = 0;
    try {
      for (let offset = 0; offset < size; offset += chunkSize) {
        const end = Math.min(offset + chunkSize, size);
        const body: Body = Buffer.isBuffer(content)
          ? () => content.subarray(offset, end)
          : () => createReadStream(content.file, { start: offset, end: end - 1, highWaterMark: 1024 * 1024 });
        const response = await this.send('PATCH', location, {
          push: true,
          transfer: true,
          signal,
          body,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${offset}-${end - 1}`,
            'content-length': String(end - offset),
          },
        });
        await this.#expect(response, 'PATCH', location, [202]);
        location = this.#location(response, location);
        await response.body?.cancel();
        sent += end - offset;
      }
      const close = new URL(location);
      close.searchParams.set('digest', `sha256:${digest}`);
      const closed = await this.send('PUT', close.toString(), { push: true, signal, headers: { 'content-length': '0' } });
      await this.#expect(closed, 'PUT', close.toString(), [201]);
      await closed.body?.cancel();
      return sent;
    } catch (error) {
      await this.send('DELETE', location, { push: true }).then(
        (response) => response.body?.cancel(),
        () => undefined,
      );
      throw error;
    }
  }

  #location(response: Response, base: string): string {
    const location = response.headers.get('location');
    if (location === null) throw new Error(`${redact(base)}: the registry gave no upload location`);
    return new URL(location, base).toString();
  }

  /** Puts an OCI image manifest under `tag`. */
  async putManifest(tag: string, bytes: Buffer): Promise<void> {
    const url = this.#url(`manifests/${tag}`);
    const response = await this.send('PUT', url, { push: true, body: () => bytes, headers: { 'content-type': OCI_MANIFEST } });
    await this.#expect(response, 'PUT', url, [201]);
    await response.body?.cancel();
  }

  /** Gets the OCI image manifest `tag` names. */
  async getManifest(tag: string): Promise<Buffer> {
    const url = this.#url(`manifests/${tag}`);
    const response = await this.#expect(await this.send('GET', url, { headers: { accept: OCI_MANIFEST } }), 'GET', url, [200]);
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (type !== OCI_MANIFEST) {
      await response.body?.cancel();
      throw new Error(`manifest '${tag}' is a '${type}', not an OCI image manifest`);
    }
    return readBounded(response, 4 * 1024 * 1024, `manifest '${tag}'`);
  }

  /** Every tag of the repository (none when it does not exist yet), following the Link header's pages. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = `${this.#url('tags/list')}?n=1000`;
    for (let page = 0; url !== undefined && page < 1000; page++) {
      const response = await this.send('GET', url);
      if (response.status === 404) {
        await response.body?.cancel();
        return tags;
      }
      await this.#expect(response, 'GET', url, [200]);
      const body = JSON.parse((await readBounded(response, 64 * 1024 * 1024, 'the tag list')).toString('utf8')) as { tags?: unknown };
      if (Array.isArray(body.tags)) for (const tag of body.tags) if (typeof tag === 'string') tags.push(tag);
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '')?.[1];
      const next: string | undefined = link === undefined ? undefined : new URL(link, url).toString();
      // The next page stays on the registry.
      url = next !== undefined && new URL(next).origin === new URL(this.#options.base).origin ? next : undefined;
    }
    return tags;
  }
}
