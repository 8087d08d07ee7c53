/**
 * Reading and writing ninja's build log, `.ninja_log` (ninja-build/ninja
 * `src/build_log.cc`).
 *
 * ```
 * # ninja log v5
 * <start_ms>\t<end_ms>\t<mtime>\t<output>\t<hash>
 * ```
 *
 * `mtime` is decimal (nanoseconds since ninja 1.9), `output` is the path as
 * written in `build.ninja`, `hash` the command hash in unpadded lowercase hex
 * (v5, v6) or, in v4 and older, the command itself. The file is append-only:
 * an output may appear several times and the last line wins.
 *
 * @packageDocumentation
 */

import { ninjaCommandHash } from './murmur-hash.js';

/** One parsed `.ninja_log` line. */
export interface NinjaLogEntry {
  /** Milliseconds since the start of the build that ran the command. */
  readonly startMs: number;
  /** Milliseconds since the start of the build when the command ended. */
  readonly endMs: number;
  /** The recorded mtime of the output (ns since ninja 1.9; 0 when unknown). */
  readonly mtime: bigint;
  /** The output path, exactly as in the manifest. */
  readonly output: string;
  /** The hash field as written: hex for v5+, the raw command for v4 and older. */
  readonly hash: string;
}

/**
 * A line of the log after the header: an entry, or a line ninja skips (fewer
 * than five fields). `raw` is the line as read, without its `\n`; when present
 * it is written back verbatim, so an unmodified log round-trips byte for byte.
 */
export type NinjaLogLine =
  { readonly kind: 'entry'; readonly entry: NinjaLogEntry; readonly raw?: string } | { readonly kind: 'other'; readonly raw: string };

/** A parsed `.ninja_log`, lines kept in file order. */
export interface NinjaLog {
  /** The version from the `# ninja log vN` header. */
  readonly version: number;
  /** The header line as read, without its `\n`. */
  readonly header: string;
  readonly lines: readonly NinjaLogLine[];
  /** Whether the file ended with `\n` (ninja always writes one). */
  readonly trailingNewline: boolean;
}

/** Log versions whose hash is MurmurHash64A (ninja 1.9 to 1.12). */
export const MURMUR_NINJA_LOG_VERSIONS: readonly number[] = [5, 6];

/** Thrown when a file is not a ninja build log or cannot be handled. */
export class NinjaLogError extends Error {
  override readonly name = 'NinjaLogError';
  readonly code: 'NINJA_LOG_FORMAT' | 'NINJA_LOG_UNSUPPORTED_VERSION';

  constructor(code: NinjaLogError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

const HEADER = /^# ninja log v(\d+)$/;

/**
 * Parses a `.ninja_log`. Lines that ninja itself would skip are kept as
 * `other` lines so that {@link serializeNinjaLog} reproduces the input.
 *
 * @param content - the file content; a buffer is decoded as UTF-8.
 * @throws {@link NinjaLogError} `NINJA_LOG_FORMAT` when the first line is not a
 *   `# ninja log vN` header.
 */
export function parseNinjaLog(content: string | Uint8Array): NinjaLog {
  const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  const trailingNewline = text.endsWith('\n');
  const rawLines = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  const header = rawLines[0] ?? '';
  const match = HEADER.exec(header);
  if (text.length === 0 || !match?.[1]) {
    throw new NinjaLogError(
      'NINJA_LOG_FORMAT',
      `Not a ninja build log: the first line is ${JSON.stringify(header.slice(0, 80))}, expected "# ninja log vN".`,
    );
  }
  const version = Number(match[1]);
  // Before v4 the separator was a space; nobody has such logs any more, but be exact.
  const separator = version >= 4 ? '\t' : ' ';
  const lines = rawLines.slice(1).map((raw): NinjaLogLine => {
    const entry = parseEntry(raw, separator);
    return entry ? { kind: 'entry', entry, raw } : { kind: 'other', raw };
  });
  return { version, header, lines, trailingNewline };
}

function parseEntry(raw: string, separator: string): NinjaLogEntry | undefined {
  // Like BuildLog::Load: four separators delimit start, end, mtime and output;
  // the rest of the line is the hash (or command).
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < 4; i++) {
    const end = raw.indexOf(separator, start);
    if (end < 0) return undefined;
    fields.push(raw.slice(start, end));
    start = end + 1;
  }
  const [startMs = '', endMs = '', mtime = '', output = ''] = fields;
  return {
    startMs: atoi(startMs),
    endMs: atoi(endMs),
    mtime: atoll(mtime),
    output,
    hash: raw.slice(start),
  };
}

/** C `atoi`-like: leading integer, 0 when none. */
function atoi(text: string): number {
  const match = /^\s*[+-]?\d+/.exec(text);
  return match ? Number.parseInt(match[0], 10) : 0;
}

function atoll(text: string): bigint {
  const match = /^\s*([+-]?\d+)/.exec(text);
  return match?.[1] ? BigInt(match[1]) : 0n;
}

/** Formats one entry as ninja's `BuildLog::WriteEntry` does (without the `\n`). */
export function formatNinjaLogEntry(entry: NinjaLogEntry): string {
  return `${entry.startMs}\t${entry.endMs}\t${entry.mtime}\t${entry.output}\t${entry.hash}`;
}

/**
 * Serializes a log. Lines carrying `raw` are written verbatim, others are
 * formatted with {@link formatNinjaLogEntry}; an unmodified parse is
 * reproduced byte for byte.
 */
export function serializeNinjaLog(log: NinjaLog): string {
  const lines = [
    log.header,
    ...log.lines.map((line) => (line.kind === 'other' ? line.raw : (line.raw ?? formatNinjaLogEntry(line.entry)))),
  ];
  return lines.join('\n') + (log.trailingNewline ? '\n' : '');
}

/**
 * The entry ninja uses for each output: later lines win. The map iterates in
 * the order outputs first appear in the file.
 */
export function latestNinjaLogEntries(log: NinjaLog): Map<string, NinjaLogEntry> {
  const latest = new Map<string, NinjaLogEntry>();
  for (const line of log.lines) {
    if (line.kind === 'entry') latest.set(line.entry.output, line.entry);
  }
  return latest;
}

/**
 * The hash field ninja would write for `command` in a log of `version`.
 *
 * @throws {@link NinjaLogError} `NINJA_LOG_UNSUPPORTED_VERSION` for versions
 *   other than 5 and 6 (v7, ninja 1.13, hashes with rapidhash).
 */
export function ninjaLogHash(version: number, command: string): string {
  if (!MURMUR_NINJA_LOG_VERSIONS.includes(version)) {
    throw new NinjaLogError(
      'NINJA_LOG_UNSUPPORTED_VERSION',
      `Cannot hash commands for ninja log v${version}: only v5 and v6 (MurmurHash64A, ninja 1.9 to 1.12) are supported.`,
    );
  }
  return ninjaCommandHash(command);
}

/** What {@link recomputeNinjaLogHashes} did. */
export interface RecomputeNinjaLogHashesResult {
  /** The log with new hashes; lines that did not change keep their `raw` text. */
  readonly log: NinjaLog;
  /** Outputs whose hash changed, in first-appearance order. */
  readonly changed: readonly string[];
  /** Outputs in the log with no command in the map; their lines are left as they were. */
  readonly missing: readonly string[];
  /**
   * With `recorded`: outputs whose logged hash is not that of their recorded
   * command; their lines are left as they were, so ninja runs them again.
   */
  readonly stale: readonly string[];
}

/** Options of {@link recomputeNinjaLogHashes}. */
export interface RecomputeNinjaLogHashesOptions {
  /**
   * The command each entry was logged with, from its current command (e.g.
   * the same command at the tree's old location). When given, an entry is
   * rehashed only when its logged hash is that command's: an entry ninja
   * would already run again (its command changed since it was logged), or a
   * command evaluated differently from ninja's own, keeps its hash and is
   * run again, never taken as up to date.
   */
  readonly recorded?: (command: string) => string;
}

/**
 * Rewrites every entry's hash from `commands` (output -> the exact string
 * ninja hashes, see `readNinjaCommands`), e.g. after the commands changed
 * because the tree moved. Times and order are kept.
 *
 * @throws {@link NinjaLogError} `NINJA_LOG_UNSUPPORTED_VERSION` when the log
 *   version's hash is not implemented.
 */
export function recomputeNinjaLogHashes(
  log: NinjaLog,
  commands: ReadonlyMap<string, string>,
  options: RecomputeNinjaLogHashesOptions = {},
): RecomputeNinjaLogHashesResult {
  // Fail before doing anything when the version is foreign.
  ninjaLogHash(log.version, '');
  const changed = new Set<string>();
  const missing = new Set<string>();
  const stale = new Set<string>();
  const hashes = new Map<string, string>();
  const recordedHashes = new Map<string, string>();
  const lines = log.lines.map((line): NinjaLogLine => {
    if (line.kind !== 'entry') return line;
    const { output } = line.entry;
    const command = commands.get(output);
    if (command === undefined) {
      missing.add(output);
      return line;
    }
    if (options.recorded) {
      let logged = recordedHashes.get(output);
      if (logged === undefined) {
        logged = ninjaLogHash(log.version, options.recorded(command));
        recordedHashes.set(output, logged);
      }
      if (logged !== line.entry.hash) {
        stale.add(output);
        return line;
      }
    }
    let hash = hashes.get(output);
    if (hash === undefined) {
      hash = ninjaLogHash(log.version, command);
      hashes.set(output, hash);
    }
    if (hash === line.entry.hash) return line;
    changed.add(output);
    return { kind: 'entry', entry: { ...line.entry, hash } };
  });
  return { log: { ...log, lines }, changed: [...changed], missing: [...missing], stale: [...stale] };
}

/**
 * Renames outputs, e.g. absolute outputs of custom commands under a moved
 * root. `mapPath` returns its argument for paths to keep. Lines whose output
 * did not change keep their `raw` text.
 */
export function mapNinjaLogOutputs(log: NinjaLog, mapPath: (path: string) => string): NinjaLog {
  const lines = log.lines.map((line): NinjaLogLine => {
    if (line.kind !== 'entry') return line;
    const output = mapPath(line.entry.output);
    return output === line.entry.output ? line : { kind: 'entry', entry: { ...line.entry, output } };
  });
  return { ...log, lines };
}

/**
 * Moves every recorded mtime `shiftNs` earlier, as the restore moved the files
 * themselves (a checkpoint whose times reached this machine's clock). ninja
 * compares a `restat` edge's logged mtime with its inputs' mtimes: left
 * unshifted, an edited input could look older than the output's log entry.
 * Entries without a time (0) keep it.
 */
export function shiftNinjaLogTimes(log: NinjaLog, shiftNs: bigint): NinjaLog {
  const lines = log.lines.map((line): NinjaLogLine => {
    if (line.kind !== 'entry' || line.entry.mtime <= 0n) return line;
    const mtime = line.entry.mtime > shiftNs ? line.entry.mtime - shiftNs : 1n;
    return { kind: 'entry', entry: { ...line.entry, mtime } };
  });
  return { ...log, lines };
}

/**
 * Every recorded mtime set to `ns` (entries without a time, 0, keep it): after
 * the restore of a flat checkpoint, whose outputs all got that one time (the
 * core's `RestoreResult.flatTimeNs`). Each output is then as new as its log
 * entry says, so only an input dated after it (a changed source) makes the
 * edge dirty.
 */
export function stampNinjaLogTimes(log: NinjaLog, ns: bigint): NinjaLog {
  const lines = log.lines.map((line): NinjaLogLine => {
    if (line.kind !== 'entry' || line.entry.mtime <= 0n) return line;
    return { kind: 'entry', entry: { ...line.entry, mtime: ns } };
  });
  return { ...log, lines };
}
