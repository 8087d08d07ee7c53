/**
 * One path placeholder scheme for every plugin. A state file that names the
 * absolute source or build directory is stored with placeholders instead, so
 * its blob is the same wherever the tree was built, and gets the directories
 * of the tree it is restored into:
 *
 *   /home/a/proj/src/x.c   --capture-->   /@orchestrate@/source-root/src/x.c   --restore-->   /ci/w/proj/src/x.c
 *
 * The core provides the transform pair {@link ROOTS_TRANSFORM} for text files
 * (a plugin names it in its state selection); plugins with binary formats
 * (ninja's deps log, cargo's dep-info) map paths with the same placeholders.
 */
import { realpathSync } from 'node:fs';
import { isBinaryContent, relocateText } from './relocate-text.js';

/** The transform name a plugin gives a text state file whose absolute roots become placeholders. */
export const ROOTS_TRANSFORM = 'orchestrate:roots';

/** Placeholders of the roots in stored files; absolute-path shaped, so tools' "absolute path" checks still hold. */
export const ROOT_PLACEHOLDER = { source: '/@orchestrate@/source-root', build: '/@orchestrate@/build-root' } as const;

/** The absolute roots of a tree; each may have several spellings (as configured, the real path). */
export interface RootSpellings {
  readonly source: readonly string[];
  readonly build: readonly string[];
}

/** `dir` as given and as its real path (a symbolic link on the way resolved), without trailing slashes. */
export function spellingsOf(dir: string): string[] {
  const out = new Set([dir]);
  try {
    out.add(realpathSync(dir));
  } catch {
    // not there (yet): as given only
  }
  return [...out].map((path) => path.replace(/\/+$/, '')).filter((path) => path !== '' && !path.includes('/@orchestrate@'));
}

/** `[root, placeholder]` pairs, longest root first: a build directory inside the source tree becomes the build placeholder. */
export function placeholderPairs(roots: RootSpellings): [root: string, placeholder: string][] {
  const pairs: [string, string][] = [];
  for (const root of new Set(roots.build)) pairs.push([root, ROOT_PLACEHOLDER.build]);
  for (const root of new Set(roots.source)) if (!roots.build.includes(root)) pairs.push([root, ROOT_PLACEHOLDER.source]);
  return pairs.sort(([a], [b]) => b.length - a.length);
}

/** `[placeholder, root]` pairs to restore a tree whose directories are `source` and `build`. */
export function rootPairs(source: string, build: string): [placeholder: string, root: string][] {
  return [
    [ROOT_PLACEHOLDER.build, build],
    [ROOT_PLACEHOLDER.source, source],
  ];
}

/** Replaces each `[from, to]` whole path prefix in text content, in order; binary content is returned unchanged. */
export function replaceRoots(content: Buffer, pairs: readonly (readonly [string, string])[]): Buffer {
  if (isBinaryContent(content)) return content;
  let out = content;
  for (const [from, to] of pairs) if (from !== to) out = relocateText(out, from, to).content;
  return out;
}

/** Which root of a tree a stored file names: the key of `manifest.roots` it was captured under. */
export type RootName = 'source' | 'build';

/** A byte that continues a path component: after a root, it makes the match another directory (`/w/proj2`). */
const continuesName = (byte: number): boolean =>
  (byte >= 0x30 && byte <= 0x39) ||
  (byte >= 0x41 && byte <= 0x5a) ||
  (byte >= 0x61 && byte <= 0x7a) ||
  byte === 0x2e ||
  byte === 0x5f ||
  byte === 0x2d ||
  byte === 0x2b;

/**
 * Finds whether a stream of bytes names one of a tree's roots (any spelling),
 * fed in chunks as they pass anyway (the store hashing its copy): a
 * `Buffer.indexOf` per spelling and chunk, and a small window across chunk
 * boundaries. A root followed by a byte that continues a name (`/w/proj2`) is
 * not a match. Feeding offset 0 again starts over (a store reading a file twice).
 */
export class RootScanner {
  readonly #needles: readonly { readonly bytes: Buffer; readonly root: RootName }[];
  readonly #overlap: number;
  #carry: Buffer = Buffer.alloc(0);
  #seen = 0;
  #found: Set<RootName> = new Set();

  constructor(roots: RootSpellings) {
    const needles: { bytes: Buffer; root: RootName }[] = [];
    for (const root of ['build', 'source'] as const) {
      for (const spelling of new Set(roots[root])) if (spelling.length > 1) needles.push({ bytes: Buffer.from(spelling), root });
    }
    this.#needles = needles;
    this.#overlap = Math.max(0, ...needles.map((n) => n.bytes.length));
  }

  /** The bytes fed since the last start. */
  get seen(): number {
    return this.#seen;
  }

  /** Feeds the stream's bytes at `offset`; offset 0 starts over. */
  update(chunk: Buffer, offset = this.#seen): void {
    if (offset === 0) this.#reset();
    if (offset !== this.#seen) throw new Error(`root scan fed out of order (offset ${offset}, expected ${this.#seen})`);
    this.#seen += chunk.length;
    if (this.#needles.length === 0 || chunk.length === 0) return;
    // A root that starts in the previous chunk's tail, then the chunk itself.
    if (this.#carry.length > 0) this.#search(Buffer.concat([this.#carry, chunk.subarray(0, this.#overlap)]), this.#carry.length, false);
    this.#search(chunk, chunk.length, false);
    const tail = chunk.length >= this.#overlap ? chunk.subarray(chunk.length - this.#overlap) : Buffer.concat([this.#carry, chunk]);
    this.#carry = Buffer.from(tail.subarray(Math.max(0, tail.length - this.#overlap)));
  }

  /** The roots named, once every byte was fed: `build` before `source` (a build directory inside the source tree names both). */
  finish(): RootName | undefined {
    if (this.#carry.length > 0) this.#search(this.#carry, this.#carry.length, true);
    this.#carry = Buffer.alloc(0);
    return this.#found.has('build') ? 'build' : this.#found.has('source') ? 'source' : undefined;
  }

  #reset(): void {
    this.#carry = Buffer.alloc(0);
    this.#seen = 0;
    this.#found = new Set();
  }

  /** Matches starting before `startLimit`; one that ends with `buf` counts only at the end of the stream (`final`). */
  #search(buf: Buffer, startLimit: number, final: boolean): void {
    for (const { bytes, root } of this.#needles) {
      if (this.#found.has(root)) continue;
      for (let at = buf.indexOf(bytes); at !== -1 && at < startLimit; at = buf.indexOf(bytes, at + 1)) {
        const end = at + bytes.length;
        if (end < buf.length ? !continuesName(buf[end]!) : final) {
          this.#found.add(root);
          break;
        }
      }
    }
  }
}

/** The root `content` names, if any (see {@link RootScanner}). */
export function tryRootNamed(content: Buffer, roots: RootSpellings): RootName | undefined {
  const scanner = new RootScanner(roots);
  scanner.update(content, 0);
  return scanner.finish();
}
