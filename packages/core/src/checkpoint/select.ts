/**
 * The checkpoint a run considers, as the working tree sees it: the files the
 * checkpoint holds as build state are not sources (an in-source build's
 * objects, untracked and not ignored), nor are the untracked files it holds
 * as inputs, and the change set is exact between
 * the checkpoint's sources and the rest of the tree.
 */
import type { BuildContext, CheckpointChoice } from '../context.js';
import { diffManifests, type SourceEntry } from '../sources/manifest.js';
import type { CheckpointManifest, CheckpointRef } from './manifest.js';

/** `sources` less the source paths of `statePaths` (relative to the build directory). */
export function sourcesWithoutState(
  sources: ReadonlyMap<string, SourceEntry>,
  statePaths: Iterable<string>,
  context: Pick<BuildContext, 'sourcePathOf'>,
): Map<string, SourceEntry> {
  const state = new Set<string>();
  for (const path of statePaths) {
    const sourcePath = context.sourcePathOf(path);
    if (sourcePath !== undefined) state.add(sourcePath);
  }
  const out = new Map<string, SourceEntry>();
  for (const [path, entry] of sources) if (!state.has(path)) out.set(path, entry);
  return out;
}

/**
 * The paths of a checkpoint that are not sources of the working tree, relative
 * to the build directory: its state, and its inputs where the tree has them
 * untracked (a plain copy without git lists every file as a source, configure's
 * Makefiles too: the checkpoint knows them as inputs, compared by content
 * with the roots taken out). An input that version control tracks here is a
 * source.
 */
export function notSourcesOf(
  manifest: Pick<CheckpointManifest, 'state' | 'inputs'>,
  context: Pick<BuildContext, 'tree' | 'sourcePathOf'>,
): string[] {
  const untracked = context.tree?.untracked ?? new Set<string>();
  const inputs = Object.keys(manifest.inputs ?? {}).filter((path) => {
    const sourcePath = context.sourcePathOf(path);
    return sourcePath !== undefined && untracked.has(sourcePath);
  });
  return [...Object.keys(manifest.state), ...inputs];
}

/**
 * Makes the {@link CheckpointChoice} for a checkpoint of the store: the
 * working tree's sources less its state paths, and the change set to them.
 * Stores and plugins that tap `findCheckpoint` return what this returns.
 */
export function selectCheckpoint(
  checkpoint: { readonly ref: CheckpointRef; readonly manifest: CheckpointManifest },
  context: Pick<BuildContext, 'tree' | 'sourcePathOf'>,
): CheckpointChoice {
  const { ref, manifest } = checkpoint;
  const sources = sourcesWithoutState(context.tree?.sources ?? new Map(), notSourcesOf(manifest, context), context);
  const before = new Map<string, SourceEntry>();
  for (const [path, record] of Object.entries(manifest.sources)) {
    before.set(path, { hash: record.hash, kind: record.kind, ...(record.target === undefined ? {} : { target: record.target }) });
  }
  return Object.freeze({ ref, manifest, sources, changes: diffManifests(before, sources) });
}
