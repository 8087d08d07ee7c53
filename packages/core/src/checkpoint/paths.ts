import { relative, sep } from 'node:path';

/** `child` relative to `parent` in POSIX form, or `undefined` when it is not inside (or equal to) it. */
export function relativeInside(parent: string, child: string): string | undefined {
  const rel = relative(parent, child);
  if (rel.startsWith('..') || rel.startsWith(sep) || rel.includes(`${sep}..${sep}`)) return undefined;
  return rel.split(sep).join('/');
}

/** Every ancestor directory of `path` (relative, POSIX), outermost first, excluding the root. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) out.push(path.slice(0, slash));
  return out;
}
