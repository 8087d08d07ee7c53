/**
 * Sets the build tool's answer (`explainBuild`) against what orchestrate
 * knows: the change set and the files the restore left out. Each unit gets
 * the causes that account for it; a unit nothing accounts for, or one whose
 * command line changed, is a warning.
 *
 * Paths are compared as paths relative to the project directory: a tool
 * names them relative to where it runs (the source or the build directory)
 * or absolute, so each path-like word of a reason is read every way it can be.
 */
import { posix } from 'node:path';
import type { CheckpointCandidate, ExplainedUnit, RunExplanation } from '../hooks.js';
import { changedPaths, type ChangeSet } from '../sources/manifest.js';

/** Why a unit is rebuilt, as orchestrate accounts for it. */
export type UnitCause =
  /** No checkpoint is used: everything is built. */
  | { readonly kind: 'full'; readonly reason: string }
  /** A changed source (relative to the source directory) that the tool's reasons name. */
  | { readonly kind: 'changed'; readonly path: string }
  /** A state file (relative to the build directory) orchestrate left out of the restore, and why. */
  | { readonly kind: 'left-out'; readonly path: string; readonly reason: string }
  /** Another unit of this build that the tool's reasons name (an object a link reads, a crate a dependent uses). */
  | { readonly kind: 'input-rebuilt'; readonly unit: string };

/** One unit of the tool's answer with orchestrate's account of it. */
export interface AnalyzedUnit extends ExplainedUnit {
  readonly causes: readonly UnitCause[];
}

/** The whole explanation: what `orchestrate explain` prints and `--json` gives. */
export interface Explanation {
  /** `incremental` from a checkpoint, `partial` when a plugin left out files it could not vouch for, or `full`. */
  readonly mode: 'full' | 'incremental' | 'partial';
  /** The checkpoint that would be restored, or null. */
  readonly checkpoint: string | null;
  /** Why the build would be full; null otherwise. */
  readonly reason: string | null;
  readonly candidates: readonly CheckpointCandidate[];
  readonly changes: ChangeSet;
  readonly leftOut: readonly { readonly path: string; readonly reason: string }[];
  /** The command that asked the tool; null when no plugin answered. */
  readonly toolCommand: string | null;
  /** The units the tool would build, each with its reasons and causes; null when no plugin answered. */
  readonly units: readonly AnalyzedUnit[] | null;
  /** Changed sources the tool's answer names nowhere (a file nothing reads, or a dependency the tool does not see). */
  readonly unusedChanges: readonly string[];
  readonly warnings: readonly string[];
  readonly notes: readonly string[];
}

/** Where the tree's directories lie, to read the tool's paths. */
export interface ExplainLayout {
  /** The tree the tool ran in (absolute), and the user's project directory its paths are shown in. */
  readonly treeDir: string;
  readonly projectDir: string;
  /** The source and build directories relative to the project directory (`.` for itself). */
  readonly sourceDir: string;
  readonly buildDir: string;
}

/** Every path of a change set, removed ones too (a tool may name a prerequisite that is gone). */
const everyChange = (changes: ChangeSet): string[] => [...changedPaths(changes), ...changes.removed].sort();

const norm = (path: string): string => posix.normalize(path).replace(/\/$/, '');

/** Path-like words of a reason: split at spaces, quotes, backticks and brackets; a sentence's final dot dropped. */
function words(text: string): string[] {
  return text
    .split(/[\s'"`(),;]+/)
    .map((word) => word.replace(/[.:]+$/, ''))
    .filter((word) => word.length > 0);
}

/** Every project-relative reading of `word`: absolute under the tree, or relative to the source or the build directory. */
function readings(word: string, layout: ExplainLayout): string[] {
  for (const root of [layout.treeDir, layout.projectDir]) {
    if (word === root) return ['.'];
    if (word.startsWith(`${root}/`)) return [norm(word.slice(root.length + 1))];
  }
  if (word.startsWith('/')) return [word];
  return [...new Set([norm(posix.join(layout.sourceDir, word)), norm(posix.join(layout.buildDir, word))])];
}

/**
 * Accounts for each unit of the tool's answer (see the module's comment).
 * `explanation` is the orchestrator's, `report` the run's mode, reason and change set.
 */
export function analyzeExplanation(
  run: {
    readonly mode: Explanation['mode'];
    readonly reason: string | null;
    readonly restored: string | null;
    readonly changes: ChangeSet;
  },
  explanation: RunExplanation,
  layout: ExplainLayout,
): Explanation {
  const warnings: string[] = [];
  const notes = [...(explanation.tool?.notes ?? [])];
  const changed = new Map<string, string>(); // project-relative → source-relative
  for (const path of everyChange(run.changes)) changed.set(norm(posix.join(layout.sourceDir, path)), path);
  const leftOut = new Map<string, { path: string; reason: string }>();
  for (const item of explanation.leftOut) leftOut.set(norm(posix.join(layout.buildDir, item.path)), item);
  const toolUnits = explanation.tool?.units;
  const unitKeys = new Map<string, string>(); // project-relative reading → unit
  for (const unit of toolUnits ?? []) {
    for (const name of [unit.unit, ...(unit.names ?? [])]) for (const key of readings(name, layout)) unitKeys.set(key, unit.unit);
  }
  const mentioned = new Set<string>();
  const units = toolUnits?.map((unit): AnalyzedUnit => {
    const causes: UnitCause[] = [];
    const seen = new Set<string>();
    const add = (cause: UnitCause): void => {
      const key = JSON.stringify(cause);
      if (!seen.has(key)) {
        seen.add(key);
        causes.push(cause);
      }
    };
    if (run.mode === 'full') {
      // Everything is built: no change or left-out file is needed to account for a unit.
      add({ kind: 'full', reason: run.reason ?? 'no checkpoint is used' });
      return { ...unit, causes };
    }
    const own = new Set([unit.unit, ...(unit.names ?? [])].flatMap((name) => readings(name, layout)));
    for (const key of own) {
      const item = leftOut.get(key);
      if (item) add({ kind: 'left-out', path: item.path, reason: item.reason });
    }
    for (const reason of unit.reasons) {
      for (const word of words(reason)) {
        for (const key of readings(word, layout)) {
          const source = changed.get(key);
          if (source !== undefined) {
            add({ kind: 'changed', path: source });
            mentioned.add(source);
          }
          const item = leftOut.get(key);
          if (item) add({ kind: 'left-out', path: item.path, reason: item.reason });
          const other = unitKeys.get(key);
          if (other !== undefined && other !== unit.unit && !own.has(key)) add({ kind: 'input-rebuilt', unit: other });
        }
      }
    }
    // A compile unit's own sources count as named too (a tool may say only "is dirty").
    for (const source of unit.sources ?? []) {
      if (changed.has(norm(posix.join(layout.sourceDir, source)))) {
        add({ kind: 'changed', path: source });
        mentioned.add(source);
      }
    }
    if (causes.length === 0)
      warnings.push(`${unit.unit}: rebuilt, but no change explains it (${unit.reasons.join('; ') || 'the tool gave no reason'})`);
    if (unit.commandChanged === true)
      warnings.push(`${unit.unit}: its command line changed (${unit.reasons.find((r) => /command/i.test(r)) ?? 'as the tool says'})`);
    return { ...unit, causes };
  });
  if (!explanation.tool) notes.push('no plugin answered explainBuild: the build tool was not asked what it would rebuild');
  const roots = explanation.checkpointRoots;
  if (roots && roots.project === layout.projectDir) {
    warnings.push(
      `the checkpoint was made at this very path ('${roots.project}'); explain restored it into a scratch copy at another path, so files left out because they name the old path would be restored by a build here`,
    );
  }
  const unusedChanges = run.mode === 'full' || !units ? [] : everyChange(run.changes).filter((path) => !mentioned.has(path));
  return {
    mode: run.mode,
    checkpoint: run.restored,
    reason: run.reason,
    candidates: explanation.candidates,
    changes: run.changes,
    leftOut: explanation.leftOut,
    toolCommand: explanation.tool?.command ?? null,
    units: units ?? null,
    unusedChanges,
    warnings,
    notes,
  };
}

/** `text` with every occurrence of the scratch tree's path replaced by the user's project directory. */
export function inUserTree(text: string, layout: Pick<ExplainLayout, 'treeDir' | 'projectDir'>): string {
  return text.split(layout.treeDir).join(layout.projectDir);
}
