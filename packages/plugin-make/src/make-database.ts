/**
 * The dependency graph make itself knows, read from its database
 * (`make -pq`): every explicit target with its normal prerequisites, from the
 * makefiles and the dependency files they include. Recorded with each
 * checkpoint so a restore can tell which outputs were built from a file that
 * is gone (make never notices a removed prerequisite: a binary linked from a
 * deleted object stays "up to date").
 */

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
