/**
 * The build state kept in a checkpoint: the profile directories built, minus
 * what cargo recreates on every build or never reads again.
 * ```text
 * <build-dir>/<profile>/
 *   .fingerprint/**         kept: cargo's freshness records (hash, json, dep-info, invoked.timestamp)
 *   deps/**                 kept: rlib, rmeta, so, binaries; not rustc's makefile dep-info deps/*.d
 *   build/<pkg>-<hash>/**   kept: script binary, output, root-output, out/; not *.d, not the
 *                           build-script-build hard link (cargo links it again before a run)
 *   incremental/**          kept unless `incremental: false`: never read by freshness, speeds up recompiles
 *   <uplifted artifacts>    not kept: hard-linked again from deps/ on every build, Fresh ones too
 *   examples/ .cargo-lock   not kept: uplifted examples; a lock file
 * <build-dir>/.rustc_info.json kept: cargo's cache of `rustc -vV` and of the target probes
 *                         (`--print cfg`, file names, sysroot), which cargo validates itself
 * <build-dir>/CACHEDIR.TAG, other profiles, doc/, tmp/: not kept
 * ```
 *
 * @packageDocumentation
 */
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { TRANSFORM_RUSTC_INFO } from './rustc-info.js';

/** What {@link selectCargoState} chose, with sizes for the log and the README. */
export interface CargoStateSelection {
  /** Files and directories, relative to the build directory. */
  readonly paths: string[];
  /** Paths of files that pass through a relocation transform, and the transform's name. */
  readonly transforms: Map<string, string>;
  /** Bytes of the selected files (hard links counted once). */
  readonly keptBytes: number;
  /** Bytes of everything in the profile directories and the rustc cache (hard links counted once). */
  readonly totalBytes: number;
  /** Bytes left out, by reason (files not also kept under another name). */
  readonly skippedBytes: Record<string, number>;
  /** Like `keptBytes` and `totalBytes`, but each name of a hard-linked file counted: what a copy without hard links writes. */
  readonly keptPathBytes: number;
  readonly totalPathBytes: number;
}

/**
 * Cargo's cache of what it learnt from rustc, in the build directory (not in a
 * profile). Without it every cargo run spawns `rustc -vV` and the target
 * probes (`rustc - --print=file-names --print=sysroot --print=cfg …`) again:
 * measured on bench/rust-app, a build with nothing to do took 0.30 s without
 * it and 0.10 s with it. Cargo keys the file on its own `rustc_fingerprint`
 * (rustc's path, size and mtime, and rustup's toolchain) and each entry on the
 * command line, and starts afresh when either differs, so a restored copy is
 * only ever used for the compiler it describes.
 */
export const RUSTC_INFO_CACHE = '.rustc_info.json';

/** Why a path of a profile directory is not kept; `undefined` when it is kept. */
export function skipReason(relative: string, isDir: boolean, options: { incremental: boolean }): string | undefined {
  const parts = relative.split('/');
  const [top, , third] = parts;
  if (parts.length === 1 && !isDir) return top === '.cargo-lock' ? 'lock' : 'uplifted artifacts';
  if (top === '.fingerprint') return undefined;
  if (top === 'deps') return !isDir && relative.endsWith('.d') ? 'rustc dep-info (*.d)' : undefined;
  if (top === 'build') {
    if (parts.length === 3 && !isDir && (third ?? '').endsWith('.d')) return 'rustc dep-info (*.d)';
    if (parts.length === 3 && !isDir && third === 'build-script-build') return 'build-script-build hard link';
    return undefined;
  }
  if (top === 'incremental') return options.incremental ? undefined : 'incremental/';
  if (top === 'examples') return 'uplifted artifacts';
  return 'other';
}

/** Which relocation transform a kept file passes through, if any. */
export function transformFor(relative: string): 'cargo-build-output' | 'cargo-dep-info' | undefined {
  const parts = relative.split('/');
  if (parts.length === 3 && parts[0] === 'build' && (parts[2] === 'output' || parts[2] === 'root-output')) return 'cargo-build-output';
  if (parts.length === 3 && parts[0] === '.fingerprint' && (parts[2] ?? '').startsWith('dep-')) return 'cargo-dep-info';
  return undefined;
}

/** Walks the profile directories (relative to `buildDir`) and selects the state; see the module comment. */
export async function selectCargoState(
  buildDir: string,
  profiles: readonly string[],
  options: { incremental: boolean },
): Promise<CargoStateSelection> {
  const paths: string[] = [];
  const transforms = new Map<string, string>();
  // Every file by inode, so hard links (uplifted artifacts, build-script-build) count once.
  const files = new Map<string, { size: number; kept: boolean; reason: string | undefined }>();
  let keptPathBytes = 0;
  let totalPathBytes = 0;
  const note = (ino: bigint, dev: bigint, size: number, reason: string | undefined): void => {
    totalPathBytes += size;
    if (reason === undefined) keptPathBytes += size;
    const key = `${dev}:${ino}`;
    const known = files.get(key);
    if (!known) files.set(key, { size, kept: reason === undefined, reason });
    else if (reason === undefined) known.kept = true;
  };

  // Synchronous calls: a few hundred readdir/lstat of a local tree take about 2 ms this way, and
  // about ten times that as thread-pool round trips while the capture is the only work left.
  const visit = (profile: string, rel: string, skipped: string | undefined): void => {
    const dir = rel === '' ? join(buildDir, profile) : join(buildDir, profile, rel);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      entries = [];
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const isDir = entry.isDirectory();
      const reason = skipped ?? skipReason(child, isDir, options);
      const path = `${profile}/${child}`;
      if (isDir) {
        if (reason === undefined) paths.push(path);
        visit(profile, child, reason);
        continue;
      }
      const info = lstatSync(join(dir, entry.name), { bigint: true, throwIfNoEntry: false });
      if (!info) continue;
      if (info.isFile()) note(info.ino, info.dev, Number(info.size), reason);
      if (reason !== undefined) continue;
      paths.push(path);
      const transform = transformFor(child);
      if (transform !== undefined) transforms.set(path, transform);
    }
  };
  const cache = lstatSync(join(buildDir, RUSTC_INFO_CACHE), { bigint: true, throwIfNoEntry: false });
  if (cache?.isFile()) {
    note(cache.ino, cache.dev, Number(cache.size), undefined);
    paths.push(RUSTC_INFO_CACHE);
    transforms.set(RUSTC_INFO_CACHE, TRANSFORM_RUSTC_INFO);
  }
  for (const profile of profiles) {
    const info = lstatSync(join(buildDir, profile), { throwIfNoEntry: false });
    if (!info?.isDirectory()) continue;
    paths.push(profile);
    visit(profile, '', undefined);
  }
  let keptBytes = 0;
  let totalBytes = 0;
  const skippedBytes: Record<string, number> = {};
  for (const file of files.values()) {
    totalBytes += file.size;
    if (file.kept) keptBytes += file.size;
    else if (file.reason !== undefined) skippedBytes[file.reason] = (skippedBytes[file.reason] ?? 0) + file.size;
  }
  return { paths, transforms, keptBytes, totalBytes, skippedBytes, keptPathBytes, totalPathBytes };
}
