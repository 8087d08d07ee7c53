/**
 * What `make -n --debug=basic` says it would do, per target: the reasons make
 * gives before "Must remake target", and the recipe lines it prints (without
 * running them) until "Successfully remade target file":
 *
 * ```text
 *      Prerequisite 'src/greet.c' is newer than target 'src/greet.o'.
 *     Must remake target 'src/greet.o'.
 * cc -Isrc -O2 -MMD -MP -c -o src/greet.o src/greet.c
 *     Successfully remade target file 'src/greet.o'.
 * ```
 *
 * A target counts as a unit only when make would run a recipe for it: a phony
 * goal without one (`all`) is not built. Run make with `-j1`: parallel jobs
 * would interleave the lines.
 *
 * @packageDocumentation
 */

/** A target make would remake, as it says. */
export interface MakeRemake {
  /** The target, as make names it (relative to the directory its make runs in). */
  readonly target: string;
  /** The directory of the sub-make that would remake it (from make's `Entering directory` lines), absent for the top make. */
  readonly dir?: string;
  /** make's own lines about it, in order, without repeats (`File 'x' does not exist.`, `Prerequisite 'y' is newer than target 'x'.`). */
  readonly reasons: string[];
  /** The recipe lines make printed for it. */
  readonly recipe: string[];
}

const MUST = /^\s*Must remake target '(.+)'\.$/;
const DONE = /^\s*Successfully remade target file '(.+)'\.$/;
const REASONS: readonly { readonly pattern: RegExp; readonly target: number }[] = [
  { pattern: /^\s*File '(.+)' does not exist\.$/, target: 1 },
  { pattern: /^\s*Prerequisite '(.+)' is newer than target '(.+)'\.$/, target: 2 },
  { pattern: /^\s*Prerequisite '(.+)' of target '(.+)' does not exist\.$/, target: 2 },
  { pattern: /^\s*Target '(.+)' not remade because of errors\.$/, target: 1 },
];
/** Lines of make's own that are neither a reason nor a recipe. */
const NOISE =
  /^(\s*(Reading makefiles|Updating makefiles|Updating goal targets|Considering target file|No need to remake target|Finished prerequisites of target file|Pruning file)|make(\[\d+\])?: |GNU Make |Built for |Copyright |License GPL|This is free software|There is NO WARRANTY)/;

/** A sub-make's `Entering directory` / `Leaving directory` line (quotes vary by locale and version). */
const DIRECTORY = /^\S*make(?:\[\d+\])?: (Entering|Leaving) directory ['`‘"](.*)['’"]\s*$/;

/**
 * Parses the output of `make -n --debug=basic` (stdout and stderr interleaved).
 * A recursive make's sub-makes (run even by `-n`) name their targets from
 * their own directory: each remake carries it. make prints a sub-make's
 * `Entering directory` line lazily, just before its first recipe line, so
 * the debug lines of its first remake come before it: a remake with no
 * recipe line yet when a directory is entered belongs to that directory.
 */
export function parseMakeDryRun(output: string): MakeRemake[] {
  const reasons = new Map<string, string[]>();
  const out: MakeRemake[] = [];
  const dirs: string[] = [];
  const keyOf = (target: string): string => `${dirs.at(-1) ?? ''}\0${target}`;
  let current: MakeRemake | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const directory = DIRECTORY.exec(line);
    if (directory?.[2] !== undefined) {
      if (directory[1] === 'Entering') {
        dirs.push(directory[2]);
        if (current && current.recipe.length === 0) {
          const reasonsThere = reasons.get(keyOf(current.target)) ?? [];
          current = {
            ...current,
            dir: directory[2],
            reasons: [...current.reasons, ...reasonsThere.filter((r) => !current?.reasons.includes(r))],
          };
        }
      } else dirs.pop();
      continue;
    }
    const must = MUST.exec(line);
    if (must?.[1]) {
      const dir = dirs.at(-1);
      current = { target: must[1], ...(dir === undefined ? {} : { dir }), reasons: reasons.get(keyOf(must[1])) ?? [], recipe: [] };
      continue;
    }
    const done = DONE.exec(line);
    if (done?.[1]) {
      if (current && current.target === done[1] && current.recipe.length > 0) out.push(current);
      current = undefined;
      continue;
    }
    const reason = REASONS.map(({ pattern, target }) => ({ match: pattern.exec(line), target })).find((r) => r.match);
    if (reason?.match) {
      const target = keyOf(reason.match[reason.target] as string);
      const list = reasons.get(target) ?? [];
      const text = line.trim();
      if (!list.includes(text)) list.push(text);
      reasons.set(target, list);
      continue;
    }
    if (NOISE.test(line)) continue;
    if (current) current.recipe.push(line);
  }
  return out;
}

const SOURCE = /\.(c|cc|cpp|cxx|C|c\+\+|m|mm|s|S)$/;

/** The sources a recipe compiles: the non-option words of each line with `-c` that name a C, C++ or assembler source. */
export function compiledSources(recipe: readonly string[]): string[] {
  const out = new Set<string>();
  for (const line of recipe) {
    const words = line.split(/\s+/).filter(Boolean);
    if (!words.includes('-c')) continue;
    for (const word of words) if (!word.startsWith('-') && SOURCE.test(word)) out.add(word.replace(/^['"]|['"]$/g, ''));
  }
  return [...out];
}
