/**
 * What both remotes need of HTTP: requests over node's `fetch` with a
 * deadline, bodies read with a bound, downloads streamed to a file while their
 * digest and length are checked.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** An HTTP failure with the method, the URL (without credentials) and the status or the network error. */
export class HttpError extends Error {
  readonly status: number | undefined;
  constructor(method: string, url: string, status: number | undefined, detail: string) {
    super(`${method} ${redact(url)} ${status === undefined ? 'failed' : `answered ${status}`}${detail ? `: ${detail}` : ''}`);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** A URL without its user info and query (tokens may travel in either). */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '<url>';
  }
}

/** A signal aborted by `signal` or after `ms`. */
export function deadline(ms: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
}

/** What {@link request} takes: `fetch`'s options with a deadline. */
export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** A buffer, a string, or a node stream (sent with `duplex: 'half'`). */
  readonly body?: Buffer | string | NodeJS.ReadableStream | null | undefined;
  readonly redirect?: 'follow' | 'manual' | 'error';
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** `fetch` with a deadline; network errors and time-outs become an {@link HttpError}. */
export async function request(url: string, init: RequestOptions): Promise<Response> {
  const { timeoutMs, signal, ...rest } = init;
  const method = rest.method ?? 'GET';
  try {
    return await fetch(url, {
      ...rest,
      body: rest.body ?? null,
      signal: deadline(timeoutMs, signal),
      ...(rest.body instanceof Readable ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    const detail =
      (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause?.message ?? (error as Error).message);
    throw new HttpError(method, url, undefined, detail);
  }
}

/** The first bytes of an error response's body, for messages. */
export async function errorDetail(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.replace(/\s+/g, ' ').trim().slice(0, 200);
  } catch {
    return '';
  }
}

/** Reads a body of at most `max` bytes; a longer one is an error (a remote cannot make us hold more). */
export async function readBounded(response: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel();
    throw new Error(`${what} is ${declared} bytes, more than the ${max} allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body === null) return Buffer.alloc(0);
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) throw new Error(`${what} is more than the ${max} bytes allowed`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** SHA-256 of bytes, hex. */
export function digestOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Streams a response body to `file`, checking its length against `size` as
 * it goes and its SHA-256 against `digest` at the end; a mismatch removes the
 * file and throws. `onBytes` is told of every chunk.
 */
export async function downloadTo(
  response: Response,
  file: string,
  expected: { digest: string; size: number },
  onBytes: (n: number) => void,
): Promise<void> {
  if (response.body === null) throw new Error('the response has no body');
  const hash = createHash('sha256');
  let size = 0;
  const out = createWriteStream(file);
  const check = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > expected.size) {
        callback(new Error(`more than the ${expected.size} bytes expected`));
        return;
      }
      hash.update(chunk);
      onBytes(chunk.length);
      if (out.write(chunk)) callback();
      else out.once('drain', () => callback());
    },
    final(callback) {
      out.end(() => callback());
    },
    destroy(error, callback) {
      out.destroy();
      callback(error);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>), check);
    if (size !== expected.size) throw new Error(`${size} bytes received, ${expected.size} expected`);
    const actual = hash.digest('hex');
    if (actual !== expected.digest) throw new Error(`content does not match its digest sha256:${expected.digest} (got sha256:${actual})`);
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}
