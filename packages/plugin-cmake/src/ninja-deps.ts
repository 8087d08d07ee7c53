/**
 * Reading and writing ninja's binary dependency log, `.ninja_deps` version 4
 * (ninja-build/ninja `src/deps_log.cc`). All integers are little-endian.
 *
 * ```
 * "# ninjadeps\n"  int32 version = 4
 * then records:    uint32 size, payload[size & 0x7fffffff]
 *   path record  (high bit clear): path bytes, NUL padding to a multiple of 4, uint32 ~id
 *   deps record  (high bit set):   int32 out_id, uint32 mtime_lo, uint32 mtime_hi, int32 in_id...
 * ```
 *
 * Path ids are implicit: the n-th path record defines id n. Ninja truncates
 * the file at the first inconsistent record; this module refuses it instead.
 *
 * @packageDocumentation
 */

/** `"# ninjadeps\n"`, the 12-byte signature. */
export const NINJA_DEPS_SIGNATURE = '# ninjadeps\n';
/** The only deps log version handled (ninja 1.10 and later). */
export const NINJA_DEPS_VERSION = 4;
/** Ninja's `kMaxRecordSize`, `(1 << 19) - 1`. */
export const NINJA_DEPS_MAX_RECORD_SIZE = (1 << 19) - 1;

/** A path record: defines id `id` for `path`. */
export interface NinjaDepsPathRecord {
  readonly kind: 'path';
  /** The implicit id: the index of this record among path records. */
  readonly id: number;
  /** The path decoded as UTF-8. */
  readonly path: string;
  /**
   * The path bytes as read. Written back when `path` still decodes from them,
   * so paths that are not valid UTF-8 round-trip too.
   */
  readonly bytes?: Uint8Array;
}

/** A deps record: the inputs discovered for an output when it was built. */
export interface NinjaDepsDepsRecord {
  readonly kind: 'deps';
  readonly outputId: number;
  /** The output's mtime (ns) when its deps were recorded; signed 64-bit. */
  readonly mtime: bigint;
  readonly inputIds: readonly number[];
}

export type NinjaDepsRecord = NinjaDepsPathRecord | NinjaDepsDepsRecord;

/** A parsed `.ninja_deps`, records in file order. */
export interface NinjaDepsLog {
  readonly version: number;
  readonly records: readonly NinjaDepsRecord[];
}

/** Thrown for a deps log this module cannot read or write faithfully. */
export class NinjaDepsError extends Error {
  override readonly name = 'NinjaDepsError';
  readonly code: 'NINJA_DEPS_FORMAT' | 'NINJA_DEPS_UNSUPPORTED_VERSION' | 'NINJA_DEPS_INVALID';
  /** Byte offset of the offending record, when known. */
  readonly offset: number | undefined;

  constructor(code: NinjaDepsError['code'], message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.code = code;
    this.offset = offset;
  }
}

const HEADER_SIZE = NINJA_DEPS_SIGNATURE.length + 4;
const decoder = new TextDecoder('utf-8');

/**
 * Parses a `.ninja_deps` file, checking everything ninja's loader checks
 * (signature, version, record sizes, path checksums, ids defined before use,
 * unique paths).
 *
 * @throws {@link NinjaDepsError} on any inconsistency, where ninja would
 *   silently truncate (and so lose deps).
 */
export function parseNinjaDeps(content: Uint8Array): NinjaDepsLog {
  const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  if (buf.length < HEADER_SIZE || buf.toString('latin1', 0, NINJA_DEPS_SIGNATURE.length) !== NINJA_DEPS_SIGNATURE) {
    throw new NinjaDepsError('NINJA_DEPS_FORMAT', 'Not a ninja deps log: missing the "# ninjadeps" signature.');
  }
  const version = buf.readInt32LE(NINJA_DEPS_SIGNATURE.length);
  if (version !== NINJA_DEPS_VERSION) {
    throw new NinjaDepsError(
      'NINJA_DEPS_UNSUPPORTED_VERSION',
      `Unsupported ninja deps log version ${version}: only version ${NINJA_DEPS_VERSION} is handled.`,
    );
  }

  const records: NinjaDepsRecord[] = [];
  const seenPaths = new Set<string>();
  let pathCount = 0;
  let offset = HEADER_SIZE;
  while (offset < buf.length) {
    if (offset + 4 > buf.length) {
      throw new NinjaDepsError('NINJA_DEPS_FORMAT', 'Truncated record header.', offset);
    }
    const word = buf.readUInt32LE(offset);
    const isDeps = word >>> 31 === 1;
    const size = word & 0x7fffffff;
    const payload = offset + 4;
    if (size > NINJA_DEPS_MAX_RECORD_SIZE || payload + size > buf.length) {
      throw new NinjaDepsError('NINJA_DEPS_FORMAT', `Record of size ${size} runs past the end of the file.`, offset);
    }
    if (isDeps) {
      if (size % 4 !== 0 || size < 12) {
        throw new NinjaDepsError('NINJA_DEPS_FORMAT', `Deps record of invalid size ${size}.`, offset);
      }
      const outputId = buf.readInt32LE(payload);
      // mtime_lo then mtime_hi: together one little-endian int64.
      const mtime = buf.readBigInt64LE(payload + 4);
      const inputIds: number[] = [];
      for (let at = payload + 12; at < payload + size; at += 4) {
        const id = buf.readInt32LE(at);
        if (id < 0 || id >= pathCount) {
          throw new NinjaDepsError('NINJA_DEPS_INVALID', `Deps record names undefined input id ${id}.`, offset);
        }
        inputIds.push(id);
      }
      if (outputId < 0 || outputId >= pathCount) {
        // Ninja does not check this one, but an output id must name a path to mean anything.
        throw new NinjaDepsError('NINJA_DEPS_INVALID', `Deps record names undefined output id ${outputId}.`, offset);
      }
      records.push({ kind: 'deps', outputId, mtime, inputIds });
    } else {
      if (size < 8 || size % 4 !== 0) {
        throw new NinjaDepsError('NINJA_DEPS_FORMAT', `Path record of invalid size ${size}.`, offset);
      }
      let pathSize = size - 4;
      for (let pad = 0; pad < 3 && buf[payload + pathSize - 1] === 0; pad++) pathSize--;
      const checksum = buf.readUInt32LE(payload + size - 4);
      const expectedId = ~checksum;
      if (expectedId !== pathCount) {
        throw new NinjaDepsError('NINJA_DEPS_INVALID', `Path record checksum names id ${expectedId}, expected ${pathCount}.`, offset);
      }
      const bytes = Uint8Array.prototype.slice.call(buf, payload, payload + pathSize);
      const path = decoder.decode(bytes);
      if (seenPaths.has(path)) {
        throw new NinjaDepsError('NINJA_DEPS_INVALID', `Path ${JSON.stringify(path)} is recorded twice.`, offset);
      }
      seenPaths.add(path);
      records.push({ kind: 'path', id: pathCount, path, bytes });
      pathCount++;
    }
    offset = payload + size;
  }
  return { version, records };
}

function pathBytes(record: NinjaDepsPathRecord): Uint8Array {
  if (record.bytes && decoder.decode(record.bytes) === record.path) return record.bytes;
  return Buffer.from(record.path, 'utf8');
}

/**
 * Encodes a deps log exactly as ninja writes it: path records padded with
 * `(4 - len % 4) % 4` NULs and followed by `~id`, where the id is the record's
 * position among path records (the `id` field must agree).
 *
 * @throws {@link NinjaDepsError} `NINJA_DEPS_INVALID` when ids are out of
 *   order or undefined, a path is empty or a record is too large.
 */
export function encodeNinjaDeps(log: NinjaDepsLog): Buffer {
  if (log.version !== NINJA_DEPS_VERSION) {
    throw new NinjaDepsError('NINJA_DEPS_UNSUPPORTED_VERSION', `Cannot write ninja deps log version ${log.version}.`);
  }
  const chunks: Buffer[] = [];
  const header = Buffer.alloc(HEADER_SIZE);
  header.write(NINJA_DEPS_SIGNATURE, 0, 'latin1');
  header.writeInt32LE(NINJA_DEPS_VERSION, NINJA_DEPS_SIGNATURE.length);
  chunks.push(header);

  let pathCount = 0;
  for (const record of log.records) {
    if (record.kind === 'path') {
      if (record.id !== pathCount) {
        throw new NinjaDepsError(
          'NINJA_DEPS_INVALID',
          `Path record ${JSON.stringify(record.path)} has id ${record.id} but is path record number ${pathCount}.`,
        );
      }
      const bytes = pathBytes(record);
      if (bytes.length === 0) throw new NinjaDepsError('NINJA_DEPS_INVALID', `Path record ${pathCount} is empty.`);
      const padding = (4 - (bytes.length % 4)) % 4;
      const size = bytes.length + padding + 4;
      if (size > NINJA_DEPS_MAX_RECORD_SIZE) {
        throw new NinjaDepsError('NINJA_DEPS_INVALID', `Path record ${pathCount} is too large (${size} bytes).`);
      }
      const chunk = Buffer.alloc(4 + size); // zero-filled, so the padding is NUL
      chunk.writeUInt32LE(size, 0);
      chunk.set(bytes, 4);
      chunk.writeUInt32LE(~pathCount >>> 0, 4 + size - 4);
      chunks.push(chunk);
      pathCount++;
    } else {
      const size = 4 * (3 + record.inputIds.length);
      if (size > NINJA_DEPS_MAX_RECORD_SIZE) {
        throw new NinjaDepsError('NINJA_DEPS_INVALID', `Deps record for id ${record.outputId} is too large.`);
      }
      const chunk = Buffer.alloc(4 + size);
      chunk.writeUInt32LE((size | 0x80000000) >>> 0, 0);
      chunk.writeInt32LE(record.outputId, 4);
      chunk.writeBigInt64LE(BigInt.asIntN(64, record.mtime), 8);
      record.inputIds.forEach((id, i) => {
        if (id < 0 || id >= pathCount) {
          throw new NinjaDepsError('NINJA_DEPS_INVALID', `Deps record names input id ${id} before it is defined.`);
        }
        chunk.writeInt32LE(id, 16 + 4 * i);
      });
      if (record.outputId < 0 || record.outputId >= pathCount) {
        throw new NinjaDepsError('NINJA_DEPS_INVALID', `Deps record names output id ${record.outputId} before it is defined.`);
      }
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

/** The deps ninja uses for an output: the last record wins. */
export interface NinjaDepsEntry {
  readonly mtime: bigint;
  readonly inputs: readonly string[];
}

/** Resolves ids to paths and keeps the last deps record of each output. */
export function latestNinjaDeps(log: NinjaDepsLog): Map<string, NinjaDepsEntry> {
  const paths: string[] = [];
  const result = new Map<string, NinjaDepsEntry>();
  for (const record of log.records) {
    if (record.kind === 'path') {
      paths[record.id] = record.path;
    } else {
      const output = paths[record.outputId];
      if (output === undefined) continue;
      result.set(output, { mtime: record.mtime, inputs: record.inputIds.map((id) => paths[id] ?? '') });
    }
  }
  return result;
}

/**
 * Renames the paths of a deps log, e.g. after its tree moved from an old
 * absolute root to a new one. Records keep their order, so ids, checksums and
 * every deps record (output id, mtime, input ids) stay as they were; only the
 * path records get their new length and padding.
 *
 * @param content - a `.ninja_deps` file.
 * @param mapPath - returns the new path, or its argument to keep it.
 * @throws {@link NinjaDepsError} when the file cannot be parsed, or when two
 *   paths map to the same new path (ninja would reject the file).
 */
export function relocateDepsLog(content: Uint8Array, mapPath: (path: string) => string): Buffer {
  const log = parseNinjaDeps(content);
  const seen = new Set<string>();
  const records = log.records.map((record): NinjaDepsRecord => {
    if (record.kind !== 'path') return record;
    const path = mapPath(record.path);
    if (seen.has(path)) {
      throw new NinjaDepsError('NINJA_DEPS_INVALID', `Relocation maps two paths to ${JSON.stringify(path)}.`);
    }
    seen.add(path);
    return path === record.path ? record : { kind: 'path', id: record.id, path };
  });
  return encodeNinjaDeps({ version: log.version, records });
}

/**
 * Every deps record's mtime set to `ns` (records without a time, 0, keep it):
 * after the restore of a flat checkpoint, whose outputs all got that one time.
 * ninja drops the deps of an output newer than its record ("stored deps info
 * out of date") and rebuilds it; at the output's own time they stay valid.
 */
export function stampDepsLog(content: Uint8Array, ns: bigint): Buffer {
  const log = parseNinjaDeps(content);
  const records = log.records.map((record): NinjaDepsRecord =>
    record.kind === 'deps' && record.mtime > 0n ? { ...record, mtime: ns } : record,
  );
  return encodeNinjaDeps({ version: log.version, records });
}
