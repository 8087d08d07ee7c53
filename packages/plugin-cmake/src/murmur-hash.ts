/**
 * Ninja's command hash for `.ninja_log` versions 5 and 6: MurmurHash64A
 * (Austin Appleby's 64-bit MurmurHash2) with ninja's fixed seed, as in
 * ninja-build/ninja `src/build_log.cc`.
 *
 * @packageDocumentation
 */

const MASK_64 = (1n << 64n) - 1n;
const M = 0xc6a4a7935bd1e995n;
const R = 47n;

/** The seed ninja passes to MurmurHash64A (`0xDECAFBADDECAFBAD`). */
export const NINJA_MURMUR_SEED = 0xdecafbaddecafbadn;

/**
 * MurmurHash64A of `data` exactly as ninja computes it: `h = seed ^ (len * m)`,
 * then 8-byte little-endian blocks, then the 1 to 7 tail bytes, then the final
 * avalanche. All arithmetic is modulo 2^64.
 *
 * @param data - the bytes to hash; a string is hashed as its UTF-8 encoding,
 *   which is what ninja sees for a command read from a UTF-8 `build.ninja`.
 * @param seed - defaults to ninja's seed {@link NINJA_MURMUR_SEED}.
 * @returns the unsigned 64-bit hash.
 */
export function murmurHash64A(data: string | Uint8Array, seed: bigint = NINJA_MURMUR_SEED): bigint {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let h = (seed ^ (BigInt(len) * M)) & MASK_64;

  const blockEnd = len - (len % 8);
  for (let offset = 0; offset < blockEnd; offset += 8) {
    let k = view.getBigUint64(offset, true);
    k = (k * M) & MASK_64;
    k ^= k >> R;
    k = (k * M) & MASK_64;
    h ^= k;
    h = (h * M) & MASK_64;
  }

  const tail = len & 7;
  if (tail > 0) {
    // The C switch falls through from case 7 down to case 1.
    for (let i = tail - 1; i >= 0; i--) {
      h ^= BigInt(bytes[blockEnd + i] ?? 0) << BigInt(8 * i);
    }
    h = (h * M) & MASK_64;
  }

  h ^= h >> R;
  h = (h * M) & MASK_64;
  h ^= h >> R;
  return h;
}

/**
 * Formats a command hash the way ninja writes it into `.ninja_log`
 * (`%" PRIx64`): lowercase hexadecimal **without** zero padding, so a hash
 * below 2^60 has fewer than 16 digits.
 */
export function formatNinjaHash(hash: bigint): string {
  return hash.toString(16);
}

/**
 * The `.ninja_log` (v5/v6) hash field for a command string, as ninja writes it.
 *
 * @param command - the string ninja hashes, i.e. `EvaluateCommand(true)`: the
 *   expanded `command`, plus `";rspfile=" + rspfile_content` when the edge has a
 *   non-empty `rspfile_content`.
 */
export function ninjaCommandHash(command: string | Uint8Array): string {
  return formatNinjaHash(murmurHash64A(command));
}
