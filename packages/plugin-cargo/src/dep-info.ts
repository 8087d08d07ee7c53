/**
 * Cargo's binary dep-info files: `<build-dir>/<profile>/.fingerprint/<pkg>-<hash>/dep-<unit>`.
 *
 * Cargo translates rustc's makefile-style `.d` into this compact form after every
 * compilation (rust-lang/cargo `src/cargo/core/compiler/fingerprint/dep_info.rs`,
 * `EncodedDepInfo`) and reads it on every later build to decide freshness: each
 * listed file must be no newer than the dep-info file itself.
 *
 * Layout, all integers little-endian:
 * ```text
 * v1 (current):  01 00 00 00 FF | u8 version=1 | u32 nfiles | file* | u32 nenv | env*
 *   file:        u8 type | u32 len | path | u8 has-checksum [| u64 size | u32 len | "algo=hex"]
 * v0 (before the checksum-freshness work of late 2024, about cargo 1.83):
 *                u32 nfiles | (u8 type | u32 len | path)* | u32 nenv | env*
 *   env:         u32 len | key | u8 has-value [| u32 len | value]
 * ```
 * The v1 marker reads as "one file of type 255" to a v0 parser, so the two never
 * collide. Type 0 is relative to the package root, type 1 relative to the build
 * root (the target dir, or `build.build-dir`) **or absolute** when the file is
 * under neither (for example `include_str!("../../README.md")` of a workspace file
 * outside the package, or a file in the rust sysroot).
 *
 * @packageDocumentation
 */

/** How a {@link DepInfoEntry.path} is anchored. */
export type DepInfoPathType = 'package-root-relative' | 'build-root-relative';

/** Encoding generation of a dep-info file. */
export type DepInfoFormat = 'v0' | 'v1';

/** A content checksum recorded under `-Zchecksum-freshness` (`build.fingerprint = "content"`). */
export interface DepInfoChecksum {
  /** The file's size in bytes when it was hashed. */
  readonly size: bigint;
  /** `"<algorithm>=<hex>"`, for example `"blake3=3df0…"`. */
  readonly value: string;
}

/** One file a unit depends on. */
export interface DepInfoEntry {
  /** What {@link DepInfoEntry.path} is relative to; `build-root-relative` paths may be absolute. */
  readonly type: DepInfoPathType;
  /** The path as stored (UTF-8). */
  readonly path: string;
  /** Present only when cargo ran with checksum freshness. */
  readonly checksum?: DepInfoChecksum;
}

/** One environment variable a unit depends on (`env!`/`option_env!`). */
export interface DepInfoEnvVar {
  readonly name: string;
  /** `undefined` means the compilation depends on the variable being unset. */
  readonly value?: string;
}

/** A decoded dep-info file. */
export interface DepInfo {
  readonly format: DepInfoFormat;
  /** The version byte of a `v1` file (always 1 today); 0 for `v0`. */
  readonly version: number;
  readonly files: readonly DepInfoEntry[];
  readonly env: readonly DepInfoEnvVar[];
}

/** Roots that dep-info paths are relative to. */
export interface DepInfoRoots {
  /** Directory holding the package's `Cargo.toml`. */
  readonly packageRoot: string;
  /** The build root: cargo's target dir (or `build.build-dir` when set), not the profile dir. */
  readonly buildRoot: string;
}

const MARKER = [0x01, 0x00, 0x00, 0x00, 0xff] as const;
/** The only v1 version byte cargo accepts (`CURRENT_ENCODED_DEP_INFO_VERSION`). */
export const CURRENT_DEP_INFO_VERSION = 1;

/** Thrown for bytes that are not a dep-info file this module understands. */
export class DepInfoError extends Error {
  /** Stable error code. */
  readonly code = 'ERR_CARGO_DEP_INFO';
  /** Byte offset where decoding failed. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`Invalid cargo dep-info at byte ${offset}: ${message}`);
    this.name = 'DepInfoError';
    this.offset = offset;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

class Reader {
  #view: DataView;
  #bytes: Uint8Array;
  offset = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get done(): boolean {
    return this.offset === this.#bytes.length;
  }
  #need(n: number): void {
    if (this.offset + n > this.#bytes.length) {
      throw new DepInfoError(`truncated: need ${n} more byte(s), have ${this.#bytes.length - this.offset}`, this.offset);
    }
  }
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.offset++);
  }
  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }
  u64(): bigint {
    this.#need(8);
    const v = this.#view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }
  string(what: string): string {
    const len = this.u32();
    this.#need(len);
    const start = this.offset;
    this.offset += len;
    try {
      return utf8.decode(this.#bytes.subarray(start, start + len));
    } catch {
      throw new DepInfoError(`${what} is not valid UTF-8`, start);
    }
  }
}

function pathType(byte: number, offset: number): DepInfoPathType {
  if (byte === 0) return 'package-root-relative';
  if (byte === 1) return 'build-root-relative';
  throw new DepInfoError(`unknown path type ${byte}`, offset);
}

/**
 * Decodes a cargo dep-info file, current (`v1`) or marker-less (`v0`).
 *
 * @throws {@link DepInfoError} on truncated, trailing or unknown data, or on a
 * non-UTF-8 path (cargo allows any bytes on Unix; such files cannot be re-encoded here).
 */
export function parseDepInfo(bytes: Uint8Array): DepInfo {
  const r = new Reader(bytes);
  const isV1 = bytes.length >= MARKER.length && MARKER.every((b, i) => bytes[i] === b);
  let version = 0;
  if (isV1) {
    r.offset = MARKER.length;
    version = r.u8();
    if (version !== CURRENT_DEP_INFO_VERSION) {
      throw new DepInfoError(`unsupported version ${version} (expected ${CURRENT_DEP_INFO_VERSION})`, MARKER.length);
    }
  }
  const files: DepInfoEntry[] = [];
  const nfiles = r.u32();
  for (let i = 0; i < nfiles; i++) {
    const at = r.offset;
    const type = pathType(r.u8(), at);
    const path = r.string('path');
    if (!isV1) {
      files.push({ type, path });
      continue;
    }
    const flagAt = r.offset;
    const hasChecksum = r.u8();
    if (hasChecksum > 1) throw new DepInfoError(`checksum flag ${hasChecksum} is not 0 or 1`, flagAt);
    if (hasChecksum === 1) {
      const size = r.u64();
      const value = r.string('checksum');
      files.push({ type, path, checksum: { size, value } });
    } else {
      files.push({ type, path });
    }
  }
  const env: DepInfoEnvVar[] = [];
  const nenv = r.u32();
  for (let i = 0; i < nenv; i++) {
    const name = r.string('env name');
    const flagAt = r.offset;
    const hasValue = r.u8();
    if (hasValue === 0) env.push({ name });
    else if (hasValue === 1) env.push({ name, value: r.string('env value') });
    else throw new DepInfoError(`env value flag ${hasValue} is not 0 or 1`, flagAt);
  }
  if (!r.done) throw new DepInfoError(`${bytes.length - r.offset} trailing byte(s)`, r.offset);
  return { format: isV1 ? 'v1' : 'v0', version, files, env };
}

/** Like {@link parseDepInfo}, but returns `undefined` for bytes it cannot decode. */
export function tryParseDepInfo(bytes: Uint8Array): DepInfo | undefined {
  try {
    return parseDepInfo(bytes);
  } catch (error) {
    if (error instanceof DepInfoError) return undefined;
    throw error;
  }
}

/**
 * Encodes a dep-info file in the given entry's {@link DepInfo.format}; the output of
 * `encodeDepInfo(parseDepInfo(b))` is byte-identical to `b`.
 *
 * @throws {@link DepInfoError} if a `v0` file carries checksums, or a `v1` file has another version.
 */
export function encodeDepInfo(info: DepInfo): Uint8Array {
  const chunks: number[] = [];
  const u8 = (v: number): void => {
    chunks.push(v & 0xff);
  };
  const u32 = (v: number): void => {
    for (let i = 0; i < 4; i++) chunks.push((v >>> (8 * i)) & 0xff);
  };
  const u64 = (v: bigint): void => {
    for (let i = 0n; i < 8n; i++) chunks.push(Number((v >> (8n * i)) & 0xffn));
  };
  const str = (s: string): void => {
    const b = utf8Encoder.encode(s);
    u32(b.length);
    for (const x of b) chunks.push(x);
  };
  const isV1 = info.format === 'v1';
  if (isV1) {
    if (info.version !== CURRENT_DEP_INFO_VERSION) {
      throw new DepInfoError(`cannot encode version ${info.version}`, 0);
    }
    for (const b of MARKER) u8(b);
    u8(info.version);
  }
  u32(info.files.length);
  for (const file of info.files) {
    u8(file.type === 'package-root-relative' ? 0 : 1);
    str(file.path);
    if (!isV1) {
      if (file.checksum) throw new DepInfoError(`v0 cannot carry the checksum of "${file.path}"`, chunks.length);
      continue;
    }
    if (file.checksum) {
      u8(1);
      u64(file.checksum.size);
      str(file.checksum.value);
    } else {
      u8(0);
    }
  }
  u32(info.env.length);
  for (const v of info.env) {
    str(v.name);
    if (v.value === undefined) u8(0);
    else {
      u8(1);
      str(v.value);
    }
  }
  return Uint8Array.from(chunks);
}

/** Whether an entry stores an absolute path (only `build-root-relative` entries can). */
export function isAbsoluteDepInfoEntry(entry: DepInfoEntry): boolean {
  return entry.path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(entry.path) || entry.path.startsWith('\\\\');
}

/** The absolute path cargo stats for an entry (cargo's `make_absolute_path`). */
export function resolveDepInfoPath(entry: DepInfoEntry, roots: DepInfoRoots): string {
  if (isAbsoluteDepInfoEntry(entry)) return entry.path;
  const base = entry.type === 'package-root-relative' ? roots.packageRoot : roots.buildRoot;
  return `${base.replace(/\/+$/, '')}/${entry.path}`;
}

/** Whether `path` is `root` or lies under it, on a path-segment boundary. */
function isUnder(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, '');
  return path === r || path.startsWith(`${r}/`);
}

/** Result of {@link relocateDepInfo}. */
export interface RelocateDepInfoResult {
  readonly info: DepInfo;
  /** How many absolute entries were rewritten. */
  readonly rewritten: number;
}

/**
 * Rewrites absolute entries under `from` to lie under `to` (relative entries are
 * location-independent and kept). Cargo stores a path absolute when it is outside
 * both the package and the build root, e.g. a workspace file included from
 * another crate's directory; after a move such an entry would name the *old*
 * tree: missing (rebuild) or, worse, still present (silently stale).
 */
export function relocateDepInfo(info: DepInfo, from: string, to: string): RelocateDepInfoResult {
  const src = from.replace(/\/+$/, '');
  const dst = to.replace(/\/+$/, '');
  let rewritten = 0;
  const files = info.files.map((entry) => {
    if (!isAbsoluteDepInfoEntry(entry) || !isUnder(entry.path, src)) return entry;
    rewritten++;
    return { ...entry, path: dst + entry.path.slice(src.length) };
  });
  return { info: { ...info, files }, rewritten };
}

/** Whether any entry carries a checksum, i.e. the unit was built with checksum freshness. */
export function hasChecksums(info: DepInfo): boolean {
  return info.files.some((f) => f.checksum !== undefined);
}
