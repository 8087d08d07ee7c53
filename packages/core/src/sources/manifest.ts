/**
 * Source manifests: each source path (relative to the source directory,
 * POSIX separators) with its content hash, kind and link target. Content is
 * identified by git blob ids (SHA-1 of `blob <size>\0<bytes>`), computed by git
 * in a work tree and by orchestrate itself elsewhere, so both give the same ids.
 */

/** `file` a regular file, `exec` a regular file with an executable bit, `link` a symbolic link. */
export type SourceKind = 'file' | 'exec' | 'link';

export interface SourceEntry {
  /** Git blob id of the content (for a link: of its target string, as git stores it). */
  readonly hash: string;
  readonly kind: SourceKind;
  /** The link target, for `link` entries. */
  readonly target?: string;
}

export type SourceManifest = ReadonlyMap<string, SourceEntry>;

/**
 * The exact difference between a checkpoint's sources and the working tree.
 * Every list is sorted. A path that turned from a file into a link (or back)
 * is `modified`; a retargeted link is `linkChanged`; an executable bit that
 * flipped without a content change is `modeChanged`.
 */
export interface ChangeSet {
  readonly added: readonly string[];
  readonly modified: readonly string[];
  readonly removed: readonly string[];
  readonly modeChanged: readonly string[];
  readonly linkChanged: readonly string[];
}

/** Every path of a change set that exists in the working tree and counts as changed. */
export function changedPaths(changes: ChangeSet): string[] {
  return [...changes.added, ...changes.modified, ...changes.modeChanged, ...changes.linkChanged].sort();
}

/** Number of paths a change set touches. */
export function changeCount(changes: ChangeSet): number {
  return changes.added.length + changes.modified.length + changes.removed.length + changes.modeChanged.length + changes.linkChanged.length;
}

/** An empty change set. */
export const NO_CHANGES: ChangeSet = Object.freeze({
  added: [],
  modified: [],
  removed: [],
  modeChanged: [],
  linkChanged: [],
});

/** Computes the change set from `before` (a checkpoint's sources) to `after` (the working tree). */
export function diffManifests(before: ReadonlyMap<string, SourceEntry>, after: ReadonlyMap<string, SourceEntry>): ChangeSet {
  const added: string[] = [];
  const modified: string[] = [];
  const removed: string[] = [];
  const modeChanged: string[] = [];
  const linkChanged: string[] = [];
  for (const [path, now] of after) {
    const then = before.get(path);
    if (!then) {
      added.push(path);
    } else if ((then.kind === 'link') !== (now.kind === 'link')) {
      modified.push(path);
    } else if (now.kind === 'link') {
      if (then.target !== now.target) linkChanged.push(path);
    } else if (then.hash !== now.hash) {
      modified.push(path);
    } else if (then.kind !== now.kind) {
      modeChanged.push(path);
    }
  }
  for (const path of before.keys()) if (!after.has(path)) removed.push(path);
  const sort = (list: string[]): string[] => list.sort();
  return {
    added: sort(added),
    modified: sort(modified),
    removed: sort(removed),
    modeChanged: sort(modeChanged),
    linkChanged: sort(linkChanged),
  };
}
