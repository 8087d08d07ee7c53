import { relative, sep } from 'node:path';

/** `child` relative to `parent` in POSIX form, or `undefined` when it is not inside (or equal to) it. */
export function relativeInside(parent: string, child: string): string | undefined {
  const rel = relative(parent, child);
  if (rel.startsWith('..') || rel.startsWith(sep) || rel.includes(`${sep}..${sep}`)) return undefined;
  return rel.split(sep).join('/');
}

/** Maps build-directory paths to source-directory paths when the build directory lies in the source tree. */
export function stateToSourceMapper(sourceDir: string, buildDir: string): (statePath: string) => string | undefined {
  const prefix = relativeInside(sourceDir, buildDir);
  if (prefix === undefined) return () => undefined;
  return prefix === '' ? (p) => p : (p) => `${prefix}/${p}`;
}

/** Every ancestor directory of `path` (relative, POSIX), outermost first, excluding the root. */
export function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}
