import crypto, { createHash } from 'node:crypto';

/** node >= 20.12 and 21.7: a one-shot digest, without a Hash object (a stream) per call. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer | string, encoding: 'hex') => string }).hash;

/** The git blob id of `content`: SHA-1 of `blob <size>\0<content>`, as `git hash-object` computes it. */
export function gitBlobId(content: Buffer | string): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** SHA-256 hex digest, the store's key. */
export function sha256(content: Buffer | string): string {
  return oneShot ? oneShot('sha256', content, 'hex') : createHash('sha256').update(content).digest('hex');
}
