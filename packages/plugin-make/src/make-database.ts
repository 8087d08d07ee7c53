/**
 * The dependency graph make itself knows, read from its database
 * (`make -pq`): every explicit target with its normal prerequisites, from the
 * makefiles and the dependency files they include. Recorded with each
 * checkpoint so a restore can tell which outputs were built from a file that
 * is gone (make never notices a removed prerequisite: a binary linked from a
 * deleted object stays "up to date").
 */

import { posix } from 'node:path';

/** target → normal prerequisites (order-only ones dropped), paths as make names them. */
export type MakeGraph = Record<string, string[]>;

/** Parses the `# Files` section of `make -p` output. */
export function parseMakeDatabase(text: string): MakeGraph {
  const graph: MakeGraph = {};
  const lines = text.split('\n');
  let inFiles = false;
  let notATarget = false;
  for (const line of lines) {
    if (line.startsWith('# Files')) {
      inFiles = true;
      continue;
    }
    if (!inFiles) continue;
    if (line.startsWith('# files hash-table stats') || line.startsWith('# VPATH Search Paths')) break;
    if (line === '# Not a target:') {
      notATarget = true;
      continue;
    }
    if (line === '') {
      notATarget = false;
      continue;
    }
    if (line.startsWith('#') || line.startsWith('\t') || notATarget) continue;
    const colon = line.search(/:(?!=)/);
    if (colon <= 0) continue;
    const target = line.slice(0, colon).trim();
    if (target.includes(' ') || target.startsWith('.')) continue; // several targets, or a special target
    let rest = line.slice(colon + 1);
    if (rest.startsWith(':')) rest = rest.slice(1);
    const pipe = rest.indexOf('|');
    const normal = (pipe >= 0 ? rest.slice(0, pipe) : rest).trim();
    graph[target] = normal === '' ? [] : normal.split(/\s+/);
  }
  return graph;
}

/**
 * Everything in `graph` that depends, directly or through other targets, on
 * one of `gone`.
 */
export function dependentsOf(graph: Readonly<MakeGraph>, gone: ReadonlySet<string>): Set<string> {
  const reverse = new Map<string, string[]>();
  for (const [target, prerequisites] of Object.entries(graph)) {
    for (const p of prerequisites) {
      const list = reverse.get(p) ?? [];
      list.push(target);
      reverse.set(p, list);
    }
  }
  const out = new Set<string>();
  const queue = [...gone];
  while (queue.length > 0) {
    const next = queue.pop() as string;
    for (const target of reverse.get(next) ?? []) {
      if (out.has(target)) continue;
      out.add(target);
      queue.push(target);
    }
  }
  return out;
}

/** make's line for a sub-make changing directory: `make[1]: Entering directory '/abs/dir'` (quotes vary by locale). */
const ENTERING = /^\S*make(?:\[\d+\])?: Entering directory ['`‘"](.*)['’"]\s*$/;

/**
 * The directories sub-makes of a recursive build worked in, as make's own
 * `Entering directory` lines name them (make prints them for every sub-make
 * unless told `--no-print-directory`), in order of first appearance.
 */
export function enteredDirectories(output: string): string[] {
  const out = new Set<string>();
  for (const line of output.split('\n')) {
    const match = ENTERING.exec(line.replace(/\r$/, ''));
    if (match?.[1]) out.add(match[1]);
  }
  return [...out];
}

/**
 * Adds a sub-make's graph to `graph`, its paths (relative to the directory
 * it ran in, `dir`, itself relative to where the top make runs) rewritten
 * relative to the top make's directory, so that one graph names every file
 * one way. Absolute paths stay as they are.
 */
export function mergeSubMakeGraph(graph: MakeGraph, sub: Readonly<MakeGraph>, dir: string): void {
  const rebase = (path: string): string => (posix.isAbsolute(path) ? path : posix.normalize(posix.join(dir, path)));
  for (const [target, prerequisites] of Object.entries(sub)) {
    const key = rebase(target);
    const merged = new Set([...(graph[key] ?? []), ...prerequisites.map(rebase)]);
    graph[key] = [...merged];
  }
}
