/**
 * Checkpoints in an HTTP cache that speaks the protocol of Bazel's HTTP
 * remote cache (`http(s)://host[:port]/prefix`): bazel-remote, nginx with
 * WebDAV, the hosted build caches.
 *
 *   <prefix>/cas/<sha256>   packs, pack indexes and checkpoint manifests, by the SHA-256 of their bytes
 *   <prefix>/ac/<sha256>    per project, fingerprint and scope (the key is a hash of the three):
 *                           a JSON index of the newest checkpoints
 *
 * Only GET, HEAD and PUT are used. The index entry is written last, after
 * every blob it names, so a push cut short leaves nothing pointing at missing
 * data. Two runners pushing to one scope at once may each replace the other's
 * index entry: a cache, not a ledger; the checkpoint lost is merely not shared.
 * bazel-remote checks that action-cache entries are Bazel ActionResults: run it
 * with `--disable_http_ac_validation`.
 *
 * Credentials: `ORCHESTRATE_CACHE_TOKEN` (sent as a bearer token) or
 * `ORCHESTRATE_CACHE_USER`/`ORCHESTRATE_CACHE_PASSWORD` (basic), or the URL's
 * user info; never over plain HTTP beyond loopback.
 */
import { createReadStream } from 'node:fs';
import * as z from 'zod';
import { digestOf, downloadTo, errorDetail, HttpError, readBounded, redact, request } from './http.js';
import { actionCacheKey } from './naming.js';
import { isLoopback } from './oci-client.js';
import { type CheckpointPointer, type NewPointer, PackedRemoteStore } from './packed-remote.js';
import type { RemoteCheckpointInfo, RemoteCheckpointQuery, RemoteStoreOptions } from './remote-store.js';
import { isValidScope } from './scope.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** The action-cache entry of a project, fingerprint and scope. */
export const checkpointIndexSchema = z.strictObject({
  schema: z.literal(1),
  kind: z.literal('orchestrate-checkpoints'),
  checkpoints: z
    .array(
      z.strictObject({
        id: sha256Hex,
        packIndex: sha256Hex,
        scope: z.string().refine(isValidScope, 'invalid scope'),
        createdAt: z.iso.datetime(),
        signature: z.strictObject({ keyId: z.string().regex(/^[0-9a-f]{16}$/), signature: z.string().max(200) }).optional(),
      }),
    )
    .max(1000),
});
export type CheckpointIndex = z.infer<typeof checkpointIndexSchema>;

/** Largest action-cache entry accepted. */
const MAX_INDEX_BYTES = 1024 * 1024;

/** Checkpoints in a Bazel-style HTTP cache; see the module's comment. */
export class HttpCacheStore extends PackedRemoteStore {
  readonly #base: string;
  readonly #authorization: string | undefined;
  /** Pointers read by the last lookups, by action-cache key and checkpoint id. */
  readonly #seen = new Map<string, CheckpointPointer>();
  /** Requests sent, by method, for tests and debug output. */
  readonly requests = { HEAD: 0, GET: 0, PUT: 0 } as Record<string, number>;

  constructor(url: string, options: RemoteStoreOptions = {}) {
    super(options);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`'${url}' is not an HTTP cache URL (http(s)://host[:port]/prefix)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`'${url}' is not an HTTP cache URL (http(s)://host[:port]/prefix)`);
    if (parsed.search !== '' || parsed.hash !== '') throw new Error(`'${redact(url)}': an HTTP cache URL takes no query or fragment`);
    const env = options.env ?? process.env;
    const token = env['ORCHESTRATE_CACHE_TOKEN'];
    const user = env['ORCHESTRATE_CACHE_USER'] ?? (parsed.username !== '' ? decodeURIComponent(parsed.username) : undefined);
    const password = env['ORCHESTRATE_CACHE_PASSWORD'] ?? decodeURIComponent(parsed.password);
    if (token !== undefined && token !== '') this.#authorization = `Bearer ${token}`;
    else if (user !== undefined && user !== '') this.#authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    if (this.#authorization !== undefined && parsed.protocol === 'http:' && !isLoopback(parsed.hostname)) {
      throw new Error(`'${redact(url)}': not sending credentials over plain HTTP; use https://`);
    }
    parsed.username = '';
    parsed.password = '';
    this.#base = parsed.toString().replace(/\/+$/, '');
  }

  describe(): string {
    return this.#base;
  }

  async #send(
    method: string,
    path: string,
    init: {
      body?: Buffer | NodeJS.ReadableStream;
      headers?: Record<string, string>;
      signal?: AbortSignal | undefined;
      transfer?: boolean;
    } = {},
  ): Promise<Response> {
    this.requests[method] = (this.requests[method] ?? 0) + 1;
    const headers: Record<string, string> = { ...init.headers };
    if (this.#authorization !== undefined) headers['authorization'] = this.#authorization;
    return request(`${this.#base}/${path}`, {
      method,
      headers,
      body: init.body ?? null,
      timeoutMs: init.transfer === true ? this.transferTimeoutMs : this.timeoutMs,
      signal: init.signal,
    });
  }

  async #expect(response: Response, method: string, path: string, ok: readonly number[]): Promise<Response> {
    if (ok.includes(response.status)) return response;
    throw new HttpError(method, `${this.#base}/${path}`, response.status, await errorDetail(response));
  }

  /** The index of checkpoints at `/ac/<key>`, empty when there is none; an unreadable one is an error. */
  async #readIndex(key: string): Promise<CheckpointIndex> {
    const path = `ac/${key}`;
    const response = await this.#send('GET', path);
    if (response.status === 404) {
      await response.body?.cancel();
      return { schema: 1, kind: 'orchestrate-checkpoints', checkpoints: [] };
    }
    await this.#expect(response, 'GET', path, [200]);
    const bytes = await readBounded(response, MAX_INDEX_BYTES, `the index at /ac/${key.slice(0, 12)}`);
    const parsed = checkpointIndexSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsed.success)
      throw new Error(`the index at /ac/${key.slice(0, 12)} fails its schema: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  protected async listPointers(query: RemoteCheckpointQuery): Promise<RemoteCheckpointInfo[]> {
    const out: RemoteCheckpointInfo[] = [];
    for (const scope of query.scopes) {
      const key = actionCacheKey(query.project, query.fingerprint, scope);
      const index = await this.#readIndex(key);
      for (const entry of index.checkpoints) {
        // An entry of another scope under this key was not written by orchestrate for this scope.
        if (entry.scope !== scope) continue;
        const location = `ac/${key}`;
        this.#seen.set(`${location}#${entry.id}`, { ...entry, signature: entry.signature });
        out.push({ id: entry.id, project: query.project, scope, createdAt: entry.createdAt, location });
      }
    }
    return out;
  }

  protected async readPointer(info: RemoteCheckpointInfo): Promise<CheckpointPointer> {
    const seen = this.#seen.get(`${info.location}#${info.id}`);
    if (seen !== undefined) return seen;
    const key = /^ac\/([0-9a-f]{64})$/.exec(info.location)?.[1];
    if (key === undefined) throw new Error(`'${info.location}' is not an index of this cache`);
    const entry = (await this.#readIndex(key)).checkpoints.find((item) => item.id === info.id);
    if (entry === undefined) throw new Error(`checkpoint ${info.id.slice(0, 12)} is no longer in the index`);
    return { ...entry, signature: entry.signature };
  }

  protected async writePointer(pointer: NewPointer): Promise<string> {
    const key = actionCacheKey(pointer.project, pointer.fingerprint, pointer.scope);
    let previous: CheckpointIndex['checkpoints'] = [];
    try {
      previous = (await this.#readIndex(key)).checkpoints;
    } catch (error) {
      this.debug(`replacing an unreadable index: ${(error as Error).message}`);
    }
    const entry = {
      id: pointer.id,
      packIndex: pointer.packIndex,
      scope: pointer.scope,
      createdAt: new Date(pointer.createdAt).toISOString(),
      ...(pointer.signature === undefined ? {} : { signature: pointer.signature }),
    };
    const index: CheckpointIndex = {
      schema: 1,
      kind: 'orchestrate-checkpoints',
      checkpoints: [entry, ...previous.filter((item) => item.id !== pointer.id)].slice(0, this.options.keep ?? 10),
    };
    const path = `ac/${key}`;
    const response = await this.#send('PUT', path, {
      body: Buffer.from(`${JSON.stringify(index)}\n`),
      headers: { 'content-type': 'application/json' },
    });
    await this.#expect(response, 'PUT', path, [200, 201, 204]);
    await response.body?.cancel();
    return path;
  }

  protected async hasBlob(digest: string): Promise<boolean> {
    const path = `cas/${digest}`;
    const response = await this.#send('HEAD', path);
    await response.body?.cancel();
    if (response.status === 404) return false;
    await this.#expect(response, 'HEAD', path, [200]);
    return true;
  }

  protected async readBlob(digest: string, max: number, what: string): Promise<Buffer> {
    const path = `cas/${digest}`;
    const response = await this.#expect(await this.#send('GET', path), 'GET', path, [200]);
    const bytes = await readBounded(response, max, what);
    const actual = digestOf(bytes);
    if (actual !== digest) throw new Error(`${what} does not match its digest ${digest} (got ${actual})`);
    return bytes;
  }

  protected async downloadBlob(
    digest: string,
    size: number,
    file: string,
    onBytes: (n: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const path = `cas/${digest}`;
    const response = await this.#expect(await this.#send('GET', path, { signal, transfer: true }), 'GET', path, [200]);
    try {
      await downloadTo(response, file, { digest, size }, onBytes);
    } catch (error) {
      throw new Error(`/cas/${digest.slice(0, 12)}: ${(error as Error).message}`, { cause: error });
    }
  }

  protected async uploadBlob(digest: string, content: Buffer | { file: string; size: number }, signal?: AbortSignal): Promise<number> {
    const path = `cas/${digest}`;
    const size = Buffer.isBuffer(content) ? content.length : content.size;
    const body = Buffer.isBuffer(content) ? content : createReadStream(content.file, { highWaterMark: 1024 * 1024 });
    const response = await this.#send('PUT', path, {
      body,
      signal,
      transfer: true,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
    await this.#expect(response, 'PUT', path, [200, 201, 204]);
    await response.body?.cancel();
    return size;
  }
}
