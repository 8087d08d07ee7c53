/**
 * Capture: store the selected state files as blobs and write the manifest
 * that points at them, with every mtime in ns. A file unchanged since it was
 * restored (same inode, size, mtime and ctime) reuses its blob without being
 * read, so a rolling checkpoint writes only what the build changed; the blob
 * is refreshed (`keepBlob`) so a concurrent prune or gc of the restored
 * checkpoint keeps it, and stored anew when it is gone already. Other files
 * go to the store through `putFile`, without being loaded whole.
 *
 * Every stored file is searched for the tree's roots on the way (README
 * "Paths"): bytes that still name the source or build directory after the
 * transform make the record `pathBound`, unless the plugin selected the file
 * `movable`. The search rides on reads the capture does anyway: the store's
 * hash of its copy, or the transformed bytes in memory.
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import pLimit from 'p-limit';
import type { BigIntStats } from 'node:fs';
import type { FileTransformInfo, StateSelection } from '../hooks.js';
import type { BuildContext } from '../context.js';
import type { SourceEntry } from '../sources/manifest.js';
import { isSafeRelativePath, type InputRecord, type SourceRecord, type StateRecord } from './manifest.js';
import { ancestors } from './paths.js';
import { placeholderPairs, replaceRoots, RootScanner, spellingsOf, tryRootNamed, type RootName, type RootSpellings } from './roots.js';

/** Identity of a file on disk right after a restore, to recognise it untouched at capture. */
export interface FileStamp {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

export function stampOf(info: BigIntStats): FileStamp {
  return { ino: info.ino, size: info.size, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs };
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** Same file and bytes as far as a write shows: inode, size and mtime (a hard link made meanwhile changes only the ctime). */
function sameContentStamp(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

export interface CaptureStateOptions {
  context: BuildContext;
  selection: StateSelection;
  /** Runs the `captureFile` transform named `name`. */
  transform: (name: string, content: Buffer, info: FileTransformInfo) => Promise<Buffer>;
  /** Records of the restored checkpoint and the stamps its files had right after the restore. */
  reuse?: { state: Readonly<Record<string, StateRecord>>; stamps: ReadonlyMap<string, FileStamp> };
}

/** Stores the selected files and returns the manifest's `state` records. */
export async function captureState(options: CaptureStateOptions): Promise<Record<string, StateRecord>> {
  const { context, selection } = options;
  const store = context.store;
  const limit = pLimit(16);
  const state = new Map<string, StateRecord>();
  const transforms = new Map<string, string | undefined>();
  const movable = new Set<string>();
  for (const spec of selection.files) {
    if (!isSafeRelativePath(spec.path)) {
      context.logger.warn(`not capturing '${spec.path}': not a plain relative path inside the build directory`);
      continue;
    }
    transforms.set(spec.path, spec.transform);
    if (spec.movable === true) movable.add(spec.path);
    else movable.delete(spec.path);
  }
  const roots: RootSpellings = { source: spellingsOf(context.sourceDir), build: spellingsOf(context.buildDir) };
  const dirs = new Set<string>();
  for (const path of transforms.keys()) for (const dir of ancestors(path)) dirs.add(dir);

  /** Stores one selected file and records it in `state`. */
  async function captureOne(path: string, transform: string | undefined): Promise<void> {
    const abs = join(context.buildDir, path);
    // Synchronous stats and reads: many small local operations, each a thread-pool round trip otherwise.
    const info = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!info) return; // vanished since the selection
    const mtimeNs = info.mtimeNs.toString();
    if (info.isSymbolicLink()) {
      state.set(path, { kind: 'link', target: readlinkSync(abs), mtimeNs });
      return;
    }
    if (info.isDirectory()) {
      dirs.add(path);
      return;
    }
    if (!info.isFile()) return;
    const kind = (info.mode & 0o111n) !== 0n ? 'exec' : 'file';
    const previous = options.reuse?.state[path];
    const stamp = options.reuse?.stamps.get(path);
    if (
      previous?.blob &&
      stamp &&
      previous.transform === transform &&
      sameStamp(stamp, stampOf(info)) &&
      // Refreshed, so a concurrent prune or gc of the restored checkpoint keeps it; stored anew when gone.
      (await store.keepBlob(previous.blob))
    ) {
      // Same stored bytes, same verdict on the roots (the plugin may have declared the file movable since).
      const { pathBound: bound, ...rest } = previous;
      state.set(path, { ...rest, kind, mtimeNs, ...(bound === undefined || movable.has(path) ? {} : { pathBound: bound }) });
      return;
    }
    // Files without a transform go to the store without being loaded (fresh memory costs page faults).
    // A restored file whose inode, size and mtime are the same (a hard link made changed its ctime)
    // most likely has its blob stored already.
    const likelyPresent =
      previous?.blob !== undefined &&
      stamp !== undefined &&
      stamp.ino === info.ino &&
      stamp.size === info.size &&
      stamp.mtimeNs === info.mtimeNs;
    const scan = movable.has(path) ? undefined : new RootScanner(roots);
    let blob: string;
    let pathBound: RootName | undefined;
    if (transform === undefined) {
      blob = await store.putFile(abs, scan ? { likelyPresent, scan: (chunk, offset) => scan.update(chunk, offset) } : { likelyPresent });
      // A store that did not show the bytes it hashed (a remote one): read them here.
      if (scan && scan.seen !== Number(info.size)) scan.update(readFileSync(abs), 0);
      pathBound = scan?.finish();
    } else {
      const stored = await options.transform(transform, readFileSync(abs), { path, absolutePath: abs, context });
      blob = await store.putBlob(stored);
      pathBound = scan ? tryRootNamed(stored, roots) : undefined;
    }
    // Written while it was read: its bytes may be newer than the mtime recorded, and a restore
    // would date them too old (dependents stale). Not kept; the build tool makes it again.
    const after = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!after || !sameContentStamp(info, after)) {
      context.logger.warn(`not capturing '${path}': it changed while it was being stored`);
      return;
    }
    state.set(path, {
      kind,
      blob,
      size: Number(info.size),
      mtimeNs,
      ...(transform === undefined ? {} : { transform }),
      ...(pathBound === undefined ? {} : { pathBound }),
    });
  }

  // The first failure (a full disk) stops the files not started yet, and is thrown once the ones
  // started have settled: none writes to the store after the capture reported its end.
  let failure: { error: unknown } | undefined;
  await Promise.allSettled(
    [...transforms].map(([path, transform]) =>
      limit(async () => {
        if (failure) return;
        try {
          await captureOne(path, transform);
        } catch (error) {
          failure ??= { error };
        }
      }),
    ),
  );
  if (failure) throw failure.error;

  for (const dir of dirs) {
    const info = lstatSync(join(context.buildDir, dir), { bigint: true, throwIfNoEntry: false });
    if (info?.isDirectory()) state.set(dir, { kind: 'dir', mtimeNs: info.mtimeNs.toString() });
  }
  return Object.fromEntries([...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The source records of the manifest: each source with its mtime now. */
export async function captureSources(sourceDir: string, sources: ReadonlyMap<string, SourceEntry>): Promise<Record<string, SourceRecord>> {
  const out: Record<string, SourceRecord> = {};
  for (const [path, entry] of sources) {
    const info = lstatSync(join(sourceDir, path), { bigint: true, throwIfNoEntry: false });
    if (!info) continue;
    out[path] = {
      hash: entry.hash,
      kind: entry.kind,
      ...(entry.target === undefined ? {} : { target: entry.target }),
      mtimeNs: info.mtimeNs.toString(),
    };
  }
  return out;
}

/** Inputs larger than this are not recorded (a data file the build reads would be hashed on every save). */
const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * The input records of the manifest: each selected input's SHA-256, size and
 * mtime. One whose size and mtime equal its record in the restored checkpoint
 * keeps the recorded hash without being read (a restore gives an unchanged
 * input exactly that time back).
 */
export function captureInputs(
  context: BuildContext,
  paths: readonly string[],
  previous: Readonly<Record<string, InputRecord>> | undefined,
): Record<string, InputRecord> {
  const out: Record<string, InputRecord> = {};
  for (const path of [...new Set(paths)].sort()) {
    if (!isSafeRelativePath(path)) continue;
    const abs = join(context.buildDir, path);
    const info = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!info?.isFile() || info.size > BigInt(MAX_INPUT_BYTES)) continue;
    const mtimeNs = info.mtimeNs.toString();
    const known = previous?.[path];
    if (known && known.mtimeNs === mtimeNs && BigInt(known.size) === info.size) {
      out[path] = known;
      continue;
    }
    const hash = tryInputHash(abs, context);
    if (hash === undefined) continue; // vanished or unreadable: not an input this build can vouch for
    out[path] = { hash, size: Number(info.size), mtimeNs };
  }
  return out;
}

/**
 * An input's SHA-256 with the tree's directories replaced by the placeholders
 * (configure writes `abs_srcdir = /path/of/the/tree` into every Makefile): the
 * same input at another path has the same hash.
 */
function tryInputHash(abs: string, context: BuildContext): string | undefined {
  let content: Buffer;
  try {
    content = readFileSync(abs);
  } catch {
    return undefined;
  }
  const roots = { source: spellingsOf(context.sourceDir), build: spellingsOf(context.buildDir) };
  return createHash('sha256')
    .update(replaceRoots(content, placeholderPairs(roots)))
    .digest('hex');
}

/** How the working tree's inputs compare with a checkpoint's records. */
export interface InputComparison {
  /** Unchanged inputs (relative to the build directory) with their recorded times. */
  readonly unchanged: ReadonlyMap<string, bigint>;
  /** Inputs whose content changed (relative to the build directory). */
  readonly changed: readonly string[];
}

/** Compares the inputs a checkpoint recorded with the files in the build directory now, by content. */
export function compareInputs(context: BuildContext, recorded: Readonly<Record<string, InputRecord>> | undefined): InputComparison {
  const unchanged = new Map<string, bigint>();
  const changed: string[] = [];
  for (const [path, record] of Object.entries(recorded ?? {})) {
    const abs = join(context.buildDir, path);
    const info = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!info?.isFile()) continue; // gone: the build tool sees it missing
    // The size is no shortcut: the roots in a file (configure's abs_srcdir) change its length at another path.
    if (tryInputHash(abs, context) === record.hash) unchanged.set(path, BigInt(record.mtimeNs));
    else changed.push(path);
  }
  return { unchanged, changed: changed.sort() };
}
