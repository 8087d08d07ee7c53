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
