/**
 * Replacing an old absolute root by a new one inside the text files of a
 * build directory (CMake's `CMakeCache.txt`, `build.ninja` and `Makefile`s, compilers'
 * `.d` files…), for plugins that relocate a build to another absolute path.
 *
 * Only whole path prefixes are replaced: the old root must end where a path
 * component ends (`/`, end of text, a quote, a blank, `;`, `:`, `,`, `=`, …)
 * and must not continue a longer path (`/x/a/src`, `../a/src` and `~/a/src`
 * are left alone when the root is `/a/src`), so a sibling such as `/a/src2`
 * is never touched.
 *
 * @packageDocumentation
 */

/** What {@link relocateText} did. */
export interface RelocateTextResult {
  /** The new content; the input buffer itself when nothing changed. */
  readonly content: Buffer;
  /** Whether any occurrence was replaced. */
  readonly changed: boolean;
  /** The number of occurrences replaced. */
  readonly replacements: number;
  /** Whether the content was judged binary (contains NUL) and left alone. */
  readonly binary: boolean;
}

/** Thrown for a root that cannot be relocated safely. */
export class RelocateTextError extends Error {
  override readonly name = 'RelocateTextError';
  readonly code = 'RELOCATE_INVALID_ROOT';
}

/**
 * Bytes that may follow the old root for the match to be a whole path prefix.
 * Anything else (a letter, digit, `.`, `-`, `_`, `+`, `~`, `@`, non-ASCII…)
 * would make it a longer name.
 */
const TERMINATORS = new Set([...'/"\'` \t\n\r\f\v;:,=()[]{}<>|&$\\*?!#'].map((c) => c.charCodeAt(0)));

/**
 * Bytes that make up a path token when walking backwards from a match: when
 * such a run before the match contains a `/`, the match is the tail of a
 * longer path (`/x/a/src`, `../a/src`) and is left alone. `-I/a/src`,
 * `=/a/src`, `"/a/src` and `@/a/src` are still matched.
 */
function isPathTokenByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2f || // /
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x2d || // -
    byte === 0x2b || // +
    byte === 0x7e || // ~
    byte === 0x40 || // @
    byte >= 0x80
  );
}

/**
 * Whether the bytes just before `at` make the match the tail of another path:
 * a token containing `/` (`/x/a/src`, `x/../a/src`), only dots (`../a/src`)
 * or starting with `~` (`~/a/src`).
 */
function continuesLongerPath(buf: Buffer, at: number): boolean {
  let start = at;
  while (start > 0 && isPathTokenByte(buf[start - 1] ?? 0)) start--;
  if (start === at) return false;
  const token = buf.toString('latin1', start, at);
  return token.includes('/') || /^\.+$/.test(token) || token.startsWith('~');
}

/** Whether `content` looks binary: it contains a NUL byte. */
export function isBinaryContent(content: Uint8Array): boolean {
  return asBuffer(content).indexOf(0) >= 0;
}

function asBuffer(content: Uint8Array): Buffer {
  return Buffer.isBuffer(content) ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

function normalizeRoot(root: string, which: string): string {
  const trimmed = root.length > 1 ? root.replace(/\/+$/, '') : root;
  if (!trimmed.startsWith('/') || trimmed === '/' || trimmed === '') {
    throw new RelocateTextError(`The ${which} root ${JSON.stringify(root)} must be an absolute path other than "/".`);
  }
  return trimmed;
}

/**
 * Replaces every whole-prefix occurrence of `oldRoot` in `content` by
 * `newRoot`. Binary content (any NUL byte) is returned unchanged with
 * `binary: true`: its offsets and lengths cannot be rewritten blindly.
 *
 * @param oldRoot - absolute path; a trailing `/` is ignored.
 * @param newRoot - absolute path; a trailing `/` is ignored.
 * @throws {@link RelocateTextError} when a root is relative or `/`.
 */
export function relocateText(content: Uint8Array, oldRoot: string, newRoot: string): RelocateTextResult {
  const buf = asBuffer(content);
  const from = Buffer.from(normalizeRoot(oldRoot, 'old'), 'utf8');
  const to = Buffer.from(normalizeRoot(newRoot, 'new'), 'utf8');
  if (isBinaryContent(buf)) return { content: buf, changed: false, replacements: 0, binary: true };
  if (from.equals(to)) return { content: buf, changed: false, replacements: 0, binary: false };

  const chunks: Buffer[] = [];
  let copied = 0;
  let replacements = 0;
  for (let at = buf.indexOf(from); at >= 0; at = buf.indexOf(from, at + 1)) {
    const after = buf[at + from.length];
    if (after !== undefined && !TERMINATORS.has(after)) continue;
    if (continuesLongerPath(buf, at)) continue;
    chunks.push(buf.subarray(copied, at), to);
    copied = at + from.length;
    replacements++;
    at = copied - 1;
  }
  if (replacements === 0) return { content: buf, changed: false, replacements: 0, binary: false };
  chunks.push(buf.subarray(copied));
  return { content: Buffer.concat(chunks), changed: true, replacements, binary: false };
}

/**
 * A path mapper for one root move, for paths that are whole strings (deps log
 * records, log outputs): `oldRoot` itself or anything below it moves, the
 * rest is returned unchanged.
 *
 * @throws {@link RelocateTextError} when a root is relative or `/`.
 */
export function rootMapper(oldRoot: string, newRoot: string): (path: string) => string {
  const from = normalizeRoot(oldRoot, 'old');
  const to = normalizeRoot(newRoot, 'new');
  return (path) => (path === from ? to : path.startsWith(`${from}/`) ? to + path.slice(from.length) : path);
}
