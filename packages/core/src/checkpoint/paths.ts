import { relative, sep } from 'node:path';

/** `child` relative to `parent` in POSIX form, or `undefined` when it is not inside (or equal to) it. */
export function relativeInside(parent: string, child: string): string | undefined {
  const rel = relative(parent, child);
  if (rel.startsWith('..') || rel.startsWith(sep) || rel.includes(`${sep}..${sep}`)) return undefined;
  return rel.split(sep).join('/');
}

/** Every ancestor directory of `path` (relative, POSIX), outermost first, excluding the root. */
export function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}
