/**
 * Warm-build hazards: a changed file that a compile reads, while make rebuilt
 * nothing that reads it. A Makefile that misses a prerequisite (no header
 * dependencies, `.d` files written but never included) gives a stale output
 * in a warm tree, and a checkpoint build is a warm build: orchestrate cannot
 * fix the Makefile, but it says so, naming the file and the output.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { parseDepFile } from './dep-files.js';

/** One output make should have rebuilt after a change, and why orchestrate thinks so. */
export interface Hazard {
  /** The changed file (relative to the source directory). */
  readonly changed: string;
  /** The output make left as it was (relative to the build directory). */
  readonly output: string;
  /** How the output is known to read the changed file. */
  readonly evidence: string;
}

const OBJECT = /^(.*)\.(o|lo|obj)$/;
const COMPILED = /\.(c|cc|cpp|cxx|C|m|mm|s|S)$/;
const SOURCE_SUFFIXES = ['.c', '.cc', '.cpp', '.cxx', '.C'];

/** The dependency files that may describe `object` (`x.d`, `x.o.d`, automake's `.deps/x.Po`). */
function depFilesOf(object: string): string[] {
  const stem = object.replace(/\.(o|lo|obj)$/, '');
  const dir = posix.dirname(object);
  const name = posix.basename(stem);
  return [`${stem}.d`, `${object}.d`, posix.join(dir, '.deps', `${name}.Po`), posix.join(dir, '.deps', `${name}.Plo`)];
}

/** True when `text` includes a file named like `header` (`#include "x.h"`, `#include <dir/x.h>`). */
function includes(text: string, header: string): boolean {
  const name = basename(header).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\s*#\\s*include\\s*[<"](?:[^>"]*/)?${name}[>"]`, 'm').test(text);
}

/**
 * The hazards of a build: for every changed file that is not itself compiled,
 * the objects that read it (by their dependency file, else by an `#include`
 * of their source) and that the build did not rewrite.
 */
export function findHazards(options: {
  changed: readonly string[];
  /** The build directory's files with their stamps, before and after the build. */
  before: ReadonlyMap<string, string>;
  after: ReadonlyMap<string, string>;
  buildDir: string;
  sourceDir: string;
  /** A build-directory path as a source-directory path (undefined outside). */
  sourcePathOf: (statePath: string) => string | undefined;
}): Hazard[] {
  const changed = options.changed.filter((path) => !COMPILED.test(path));
  if (changed.length === 0) return [];
  const hazards: Hazard[] = [];
  for (const [object, stamp] of options.after) {
    const match = OBJECT.exec(object);
    if (!match || options.before.get(object) !== stamp) continue; // not an object, or rebuilt
    const depFile = depFilesOf(object).find((path) => options.after.has(path));
    let reads: (path: string) => string | undefined;
    if (depFile !== undefined) {
      const listed = new Set<string>();
      for (const prerequisites of parseDepFile(readFileSync(join(options.buildDir, depFile), 'utf8')).values()) {
        for (const p of prerequisites) listed.add(posix.basename(p));
      }
      reads = (path) => (listed.has(posix.basename(path)) ? `its dependency file '${depFile}' lists it` : undefined);
    } else {
      const stem = match[1] as string;
      const source = SOURCE_SUFFIXES.map((suffix) => `${stem}${suffix}`).find((path) => existsSync(join(options.buildDir, path)));
      if (source === undefined) continue;
      const text = readFileSync(join(options.buildDir, source), 'latin1');
      const sourcePath = options.sourcePathOf(source) ?? source;
      reads = (path) => (includes(text, path) ? `'${sourcePath}' includes it` : undefined);
    }
    for (const path of changed) {
      const evidence = reads(path);
      if (evidence !== undefined) hazards.push({ changed: path, output: object, evidence });
    }
  }
  return hazards;
}
