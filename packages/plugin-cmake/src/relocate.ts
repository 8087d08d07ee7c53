/**
 * Relocation of a CMake binary directory between absolute paths.
 *
 * At capture, the source and build roots CMake recorded are replaced by
 * placeholder roots in every text state file and in the path records of
 * `.ninja_deps`, so a checkpoint's blobs name no machine path; at restore the
 * placeholders become the new roots (the core replays each file's recorded
 * mtime afterwards). `.ninja_log` keeps real command hashes and is repaired
 * after the restore, when the relocated `build.ninja` can be evaluated.
 *
 * @packageDocumentation
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CheckpointRefusedError, isBinaryContent, relocateText, rootMapper, ROOT_PLACEHOLDER, ROOTS_TRANSFORM } from '@orchestrate/core';
import { NINJA_DEPS_SIGNATURE, NINJA_DEPS_VERSION, relocateDepsLog, stampDepsLog } from './ninja-deps.js';
import {
  MURMUR_NINJA_LOG_VERSIONS,
  mapNinjaLogOutputs,
  parseNinjaLog,
  recomputeNinjaLogHashes,
  serializeNinjaLog,
  shiftNinjaLogTimes,
  stampNinjaLogTimes,
} from './ninja-log.js';
import { readNinjaCommands } from './ninja-commands.js';

/** Placeholder roots written into captured blobs: the core's, shared by every plugin. */
export const PLACEHOLDER = ROOT_PLACEHOLDER;

/** Transform names recorded in the manifest: text files go through the core's roots transform. */
export const TRANSFORM = { text: ROOTS_TRANSFORM, ninjaDeps: 'cmake-ninja-deps' } as const;

export interface Roots {
  readonly source: string;
  readonly build: string;
}

/** A root relocateText can rewrite everywhere CMake writes it: plain characters only (no blanks, quotes, `$`, `;`, `#`…, which generators escape). */
const SAFE_ROOT = /^(\/[A-Za-z0-9._+,@~-]+)+$/;

/** Why `root` cannot be relocated, or `undefined` when it can. */
export function tryUnsafeRoot(root: string): string | undefined {
  if (!SAFE_ROOT.test(root))
    return `'${root}' contains characters that CMake escapes in some files (only letters, digits and ._+,@~- are relocated)`;
  if (root.includes('/@orchestrate@')) return `'${root}' contains orchestrate's placeholder`;
  return undefined;
}

/** Root pairs to replace, most specific first (a build dir inside the source tree before the source tree). */
function ordered(pairs: readonly (readonly [from: string, to: string])[]): (readonly [string, string])[] {
  const unique = pairs.filter(([from, to], i) => from !== to && pairs.findIndex(([f]) => f === from) === i);
  return [...unique].sort(([a], [b]) => b.length - a.length);
}

/** Real roots → placeholders (capture). */
export function toPlaceholders(roots: Roots): (readonly [string, string])[] {
  return ordered([
    [roots.build, PLACEHOLDER.build],
    [roots.source, PLACEHOLDER.source],
  ]);
}

/** Placeholders → real roots (restore). */
export function fromPlaceholders(roots: Roots): (readonly [string, string])[] {
  return ordered([
    [PLACEHOLDER.build, roots.build],
    [PLACEHOLDER.source, roots.source],
  ]);
}

/** Replaces each pair in order in text content; binary content is returned unchanged. */
export function replaceRoots(content: Buffer, pairs: readonly (readonly [string, string])[]): Buffer {
  let out = content;
  for (const [from, to] of pairs) out = relocateText(out, from, to).content;
  return out;
}

/** A path mapper applying each pair in order, for whole paths (deps log records, log outputs). */
export function pathMapper(pairs: readonly (readonly [string, string])[]): (path: string) => string {
  const mappers = pairs.map(([from, to]) => rootMapper(from, to));
  return (path) => {
    for (const map of mappers) {
      const mapped = map(path);
      if (mapped !== path) return mapped;
    }
    return path;
  };
}

const BOUNDARY = '(?=[/"\'`\\s;:,=()\\[\\]{}<>|&$\\\\*?!#]|$)';

/** Whether `content` still names `root` as a whole path prefix. */
export function mentionsRoot(content: Buffer, root: string): boolean {
  if (content.indexOf(root) < 0) return false;
  const escaped = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`${escaped}${BOUNDARY}`).test(content.toString('latin1'));
}

/** The capture transform of a text or binary state file: placeholders in text; `residue` says whether a root is left. */
export function captureText(content: Buffer, roots: Roots): { content: Buffer; residue: boolean } {
  if (isBinaryContent(content)) return { content, residue: mentionsRoot(content, roots.source) || mentionsRoot(content, roots.build) };
  const out = replaceRoots(content, toPlaceholders(roots));
  return { content: out, residue: mentionsRoot(out, roots.source) || mentionsRoot(out, roots.build) };
}

/** The capture transform of `.ninja_deps`: path records renamed to placeholders (ids, order, deps records kept). */
export function captureNinjaDeps(content: Buffer, roots: Roots): { content: Buffer; residue: boolean } {
  try {
    return { content: relocateDepsLog(content, pathMapper(toPlaceholders(roots))), residue: false };
  } catch {
    // Kept as is; a relocation of this checkpoint will be refused.
    return { content, residue: true };
  }
}

/** The restore transform of `.ninja_deps`. */
export function restoreNinjaDeps(content: Buffer, roots: Roots): Buffer {
  try {
    return relocateDepsLog(content, pathMapper(fromPlaceholders(roots)));
  } catch (error) {
    throw new CheckpointRefusedError(`its .ninja_deps cannot be relocated: ${(error as Error).message}`);
  }
}

/** Versions of ninja's logs in a build dir, for the checkpoint's data: from their headers (-1: unreadable). */
export async function readNinjaLogVersions(buildDir: string): Promise<{ log?: number; deps?: number }> {
  const out: { log?: number; deps?: number } = {};
  const log = readHead(join(buildDir, '.ninja_log'), 64);
  if (log) out.log = Number(/^# ninja log v(\d+)\n/.exec(log.toString('latin1'))?.[1] ?? -1);
  const deps = readHead(join(buildDir, '.ninja_deps'), NINJA_DEPS_SIGNATURE.length + 4);
  if (deps) {
    const signed =
      deps.length === NINJA_DEPS_SIGNATURE.length + 4 && deps.toString('latin1', 0, NINJA_DEPS_SIGNATURE.length) === NINJA_DEPS_SIGNATURE;
    out.deps = signed ? deps.readInt32LE(NINJA_DEPS_SIGNATURE.length) : -1;
  }
  return out;
}

/** The first `bytes` bytes of `file`, or `undefined` when it cannot be read. */
function readHead(file: string, bytes: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(bytes);
    return head.subarray(0, readSync(fd, head, 0, bytes, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Why ninja's logs of this version cannot be relocated, or `undefined`. */
export function tryUnsupportedNinjaLogs(versions: { log?: number | undefined; deps?: number | undefined }): string | undefined {
  if (versions.log !== undefined && !MURMUR_NINJA_LOG_VERSIONS.includes(versions.log)) {
    return `its .ninja_log is version ${versions.log}; only v5 and v6 (MurmurHash64A) command hashes can be recomputed`;
  }
  if (versions.deps !== undefined && versions.deps !== NINJA_DEPS_VERSION) {
    return `its .ninja_deps is version ${versions.deps}; only version ${NINJA_DEPS_VERSION} can be re-encoded`;
  }
  return undefined;
}

/**
 * After a restore at new roots: renames absolute outputs in `.ninja_log` and
 * recomputes the command hashes from the relocated manifest. (Its own mtime
 * is left as written: ninja never compares it, and the build appends to it
 * anyway; one process start fewer.) No ninja run is needed to trust the evaluation: an entry is
 * rehashed only when its logged hash is the hash of the same command at the
 * old roots, i.e. when the evaluation matches what ninja itself hashed at
 * capture. Any other entry keeps its hash, and ninja runs it again.
 */
export async function repairNinjaLog(
  buildDir: string,
  oldRoots: Roots,
  newRoots: Roots,
  table?: NinjaCommandTable,
): Promise<RepairedNinjaLog> {
  const file = join(buildDir, '.ninja_log');
  const content = await readFile(file).catch(() => undefined);
  if (content === undefined) return { changed: [], stale: [] };
  try {
    const moved = mapNinjaLogOutputs(
      parseNinjaLog(content),
      pathMapper(
        ordered([
          [oldRoots.build, newRoots.build],
          [oldRoots.source, newRoots.source],
        ]),
      ),
    );
    const commands = table ? commandsAt(table, newRoots) : await readNinjaCommands(buildDir, { verify: false });
    const back = ordered([
      [newRoots.build, oldRoots.build],
      [newRoots.source, oldRoots.source],
    ]);
    const recorded = (command: string): string => replaceRoots(Buffer.from(command), back).toString();
    const { log, changed, stale } = recomputeNinjaLogHashes(moved, commands, { recorded });
    await writeFile(file, serializeNinjaLog(log));
    return { changed, stale };
  } catch (error) {
    throw new CheckpointRefusedError(`its .ninja_log cannot be relocated: ${(error as Error).message}`);
  }
}

/** After a restore whose times were re-based by `shiftNs` (see the core's `RestoreResult.timeShiftNs`): the log's times follow. */
export async function shiftNinjaLog(buildDir: string, shiftNs: bigint): Promise<void> {
  const file = join(buildDir, '.ninja_log');
  const content = await readFile(file).catch(() => undefined);
  if (content === undefined || shiftNs === 0n) return;
  try {
    await writeFile(file, serializeNinjaLog(shiftNinjaLogTimes(parseNinjaLog(content), shiftNs)));
  } catch (error) {
    throw new CheckpointRefusedError(`its .ninja_log times cannot be re-based: ${(error as Error).message}`);
  }
}

/**
 * After the restore of a flat checkpoint (`times: flat`, the default in a Nix
 * build), whose outputs were all given one time `ns` (the core's
 * `RestoreResult.flatTimeNs`): the times ninja keeps in its logs become that
 * time too. The logs hold the capturing build's clock; an output restored
 * after its deps record would lose its deps and rebuild, and a log entry
 * older than an input outside the build would too.
 */
export async function stampNinjaLogs(buildDir: string, ns: bigint): Promise<void> {
  const log = join(buildDir, '.ninja_log');
  const deps = join(buildDir, '.ninja_deps');
  try {
    const logContent = await readFile(log).catch(() => undefined);
    if (logContent !== undefined) await writeFile(log, serializeNinjaLog(stampNinjaLogTimes(parseNinjaLog(logContent), ns)));
    const depsContent = await readFile(deps).catch(() => undefined);
    if (depsContent !== undefined) await writeFile(deps, stampDepsLog(depsContent, ns));
  } catch (error) {
    throw new CheckpointRefusedError(`its ninja logs' times cannot be set to the restored time: ${(error as Error).message}`);
  }
}

/**
 * Every edge's output -> the command ninja hashes, with the roots as
 * placeholders: kept with a checkpoint (an attachment), so a relocated
 * restore evaluates no manifest. Only a hint: {@link repairNinjaLog} rehashes
 * an entry only when its logged hash is the old command's, so a table that
 * does not match the manifest costs commands run again, never a stale one.
 */
export type NinjaCommandTable = Readonly<Record<string, string>>;

/** The command table of the build dir's manifest, whose roots are `roots`. */
export function readNinjaCommandTable(buildDir: string, roots: Roots): Promise<NinjaCommandTable> {
  return readNinjaCommands(buildDir, { verify: false }).then((commands) => {
    const toPlaceholder = pathMapper(toPlaceholders(roots));
    const table: Record<string, string> = {};
    for (const [output, command] of commands)
      table[toPlaceholder(output)] = replaceRoots(Buffer.from(command), toPlaceholders(roots)).toString();
    return table;
  });
}

/** A table's commands at `roots`. */
function commandsAt(table: NinjaCommandTable, roots: Roots): Map<string, string> {
  const fromPlaceholder = pathMapper(fromPlaceholders(roots));
  const commands = new Map<string, string>();
  for (const [output, command] of Object.entries(table)) {
    commands.set(fromPlaceholder(output), replaceRoots(Buffer.from(command), fromPlaceholders(roots)).toString());
  }
  return commands;
}

/** Whether `value` has the shape of a {@link NinjaCommandTable} (an attachment is read from a store). */
export function isNinjaCommandTable(value: unknown): value is NinjaCommandTable {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((command) => typeof command === 'string')
  );
}

/** What {@link repairNinjaLog} did. */
export interface RepairedNinjaLog {
  /** Outputs whose hash was recomputed for the new roots. */
  readonly changed: readonly string[];
  /** Outputs whose logged hash is not their command's: left for ninja to run again. */
  readonly stale: readonly string[];
}

/** Why the move from `from` to `to` cannot be relocated, or `undefined`. */
export function tryUnrelocatable(from: Roots, to: Roots): string | undefined {
  for (const root of [from.source, from.build, to.source, to.build]) {
    const unsafe = tryUnsafeRoot(root);
    if (unsafe) return `the directory ${unsafe}`;
  }
  const before = relative(from.source, from.build);
  const after = relative(to.source, to.build);
  if (before !== after) {
    return `the build directory lies at '${after}' from the source directory, but at '${before}' when the checkpoint was taken`;
  }
  return undefined;
}
