/**
 * Build-script state under `<build-dir>/<profile>/build/<pkg>-<hash>/`:
 * ```text
 * output          the script's stdout; cargo re-parses it on every build (fresh or not)
 * root-output     the absolute OUT_DIR the script ran with
 * stderr          the script's stderr
 * out/            OUT_DIR
 * invoked.timestamp
 * ```
 * Parsing follows rust-lang/cargo `src/cargo/core/compiler/custom_build.rs`
 * (`BuildOutput::parse`): lines split on `\n` and trimmed; `cargo::KEY=VALUE`
 * (new syntax) or `cargo:KEY=VALUE` (old syntax, where an unreserved key is
 * metadata); other lines are ignored; values are end-trimmed.
 *
 * On relocation cargo replaces the old OUT_DIR (read from `root-output`) with the
 * new one in every directive value, and stores `rerun-if-changed` paths in the
 * fingerprint stripped of the package root. Any *other* old-root path in `output`
 * is taken literally: an absolute `rerun-if-changed` into the package makes the
 * script rerun ("the rerun-if-changed instructions changed"), and a `rustc-env`
 * or `rustc-link-search` outside OUT_DIR keeps pointing at the old tree.
 *
 * @packageDocumentation
 */

/** Which spelling a directive used. */
export type BuildDirectiveSyntax = 'cargo:' | 'cargo::';

/** One `cargo:`/`cargo::` instruction line. */
export interface BuildDirective {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly syntax: BuildDirectiveSyntax;
  /** `rerun-if-changed`, `rustc-env`, …; `metadata` for old-syntax unreserved keys. */
  readonly key: string;
  /** The value as cargo sees it (end-trimmed); for old-syntax metadata, `KEY=VALUE`. */
  readonly value: string;
  /** The whole trimmed line. */
  readonly raw: string;
}

/** A parsed build-script `output` file. */
export interface BuildOutput {
  readonly directives: readonly BuildDirective[];
  /** `rerun-if-changed` values in order (relative to the package root, or absolute). */
  readonly rerunIfChanged: readonly string[];
  /** `rerun-if-env-changed` variable names in order. */
  readonly rerunIfEnvChanged: readonly string[];
  /**
   * True when the script printed no `rerun-if-*` directive: cargo then fingerprints
   * the whole package by its newest mtime (`Precalculated`), so only an exact
   * mtime replay of every package file keeps it fresh.
   */
  readonly watchesWholePackage: boolean;
}

/** Old-syntax keys that are directives rather than metadata (cargo's `RESERVED_PREFIXES`). */
export const RESERVED_BUILD_KEYS: readonly string[] = [
  'rustc-flags',
  'rustc-link-lib',
  'rustc-link-search',
  'rustc-link-arg-cdylib',
  'rustc-cdylib-link-arg',
  'rustc-link-arg-bins',
  'rustc-link-arg-bin',
  'rustc-link-arg-tests',
  'rustc-link-arg-benches',
  'rustc-link-arg-examples',
  'rustc-link-arg',
  'rustc-cfg',
  'rustc-check-cfg',
  'rustc-env',
  'warning',
  'rerun-if-changed',
  'rerun-if-env-changed',
];

/** Parses the text of a build script's `output` file. Malformed directive lines are skipped, not thrown. */
export function parseBuildOutput(text: string): BuildOutput {
  const directives: BuildDirective[] = [];
  const lines = text.split('\n');
  lines.forEach((rawLine, index) => {
    const line = rawLine.trim();
    let syntax: BuildDirectiveSyntax;
    let data: string;
    if (line.startsWith('cargo::')) {
      syntax = 'cargo::';
      data = line.slice('cargo::'.length);
    } else if (line.startsWith('cargo:')) {
      syntax = 'cargo:';
      data = line.slice('cargo:'.length);
      if (!RESERVED_BUILD_KEYS.some((k) => data.startsWith(`${k}=`))) {
        directives.push({ line: index + 1, syntax, key: 'metadata', value: data.trimEnd(), raw: line });
        return;
      }
    } else {
      return;
    }
    const eq = data.indexOf('=');
    if (eq < 0) return; // cargo fails the build on this; nothing to track here
    directives.push({
      line: index + 1,
      syntax,
      key: data.slice(0, eq),
      value: data.slice(eq + 1).trimEnd(),
      raw: line,
    });
  });
  const rerunIfChanged = directives.filter((d) => d.key === 'rerun-if-changed').map((d) => d.value);
  const rerunIfEnvChanged = directives.filter((d) => d.key === 'rerun-if-env-changed').map((d) => d.value);
  return {
    directives,
    rerunIfChanged,
    rerunIfEnvChanged,
    watchesWholePackage: rerunIfChanged.length === 0 && rerunIfEnvChanged.length === 0,
  };
}

/** Characters that may continue a path segment: a root followed by one of these is a different path. */
const SEGMENT_CHAR = /[A-Za-z0-9._\-+@~%]/;

/** One occurrence of a root in a text file. */
export interface RootOccurrence {
  /** 1-based line. */
  readonly line: number;
  /** 0-based column of the first character of the root. */
  readonly column: number;
  /** Character offset in the whole text. */
  readonly index: number;
  /** The directive on that line, when the line is one. */
  readonly directive?: BuildDirective;
  /** True when the occurrence lies inside `outDir` (cargo rewrites these itself). */
  readonly insideOutDir: boolean;
}

/** Options of {@link findRootOccurrences}. */
export interface FindRootOptions {
  /**
   * The OUT_DIR the script ran with (the content of `root-output`); occurrences under
   * it are flagged {@link RootOccurrence.insideOutDir}.
   */
  readonly outDir?: string;
}

function occurrenceIndexes(text: string, root: string): number[] {
  const needle = root.replace(/\/+$/, '');
  if (needle === '') return [];
  const found: number[] = [];
  let i = text.indexOf(needle);
  while (i >= 0) {
    const next = text[i + needle.length];
    // "/a/b" is not in "/a/bc"; hits never overlap
    if (next !== undefined && SEGMENT_CHAR.test(next)) {
      i = text.indexOf(needle, i + 1);
    } else {
      found.push(i);
      i = text.indexOf(needle, i + needle.length);
    }
  }
  return found;
}

/**
 * Finds every occurrence of the absolute `root` in `text`, on path-segment
 * boundaries (`/w/a` matches `/w/a` and `/w/a/x`, not `/w/ab`).
 */
export function findRootOccurrences(text: string, root: string, options: FindRootOptions = {}): RootOccurrence[] {
  const parsed = parseBuildOutput(text);
  const byLine = new Map(parsed.directives.map((d) => [d.line, d]));
  const outDirHits = new Set(options.outDir === undefined ? [] : occurrenceIndexes(text, options.outDir));
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  return occurrenceIndexes(text, root).map((index) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= index) lo = mid;
      else hi = mid - 1;
    }
    const line = lo + 1;
    const directive = byLine.get(line);
    const base = { line, column: index - (lineStarts[lo] ?? 0), index, insideOutDir: outDirHits.has(index) };
    return directive ? { ...base, directive } : base;
  });
}

/** Result of {@link rewriteRoot}. */
export interface RewriteRootResult {
  readonly text: string;
  /** Number of replaced occurrences. */
  readonly count: number;
}

/**
 * Replaces every boundary-respecting occurrence of `from` with `to`. Use it on
 * `output` and `root-output` after a move so cargo sees the new tree; keep the
 * files' recorded mtimes afterwards (the `output` mtime is the reference for
 * `rerun-if-changed`).
 */
export function rewriteRoot(text: string, from: string, to: string): RewriteRootResult {
  const src = from.replace(/\/+$/, '');
  const dst = to.replace(/\/+$/, '');
  const hits = occurrenceIndexes(text, src);
  if (hits.length === 0) return { text, count: 0 };
  let out = '';
  let last = 0;
  for (const i of hits) {
    out += text.slice(last, i) + dst;
    last = i + src.length;
  }
  return { text: out + text.slice(last), count: hits.length };
}

/** Parses `root-output`: the absolute OUT_DIR, without a trailing newline (cargo writes none). */
export function parseRootOutput(text: string): string {
  return text.replace(/\r?\n$/, '');
}
