import { createHash } from 'node:crypto';

/** The git blob id of `content`: SHA-1 of `blob <size>\0<content>`, as `git hash-object` computes it. */
export function gitBlobId(content: Buffer | string): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** SHA-256 hex digest, the store's key. */
export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}
