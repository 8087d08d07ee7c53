/**
 * Ninja's command hash for `.ninja_log` versions 5 and 6: MurmurHash64A
 * (Austin Appleby's 64-bit MurmurHash2) with ninja's fixed seed, as in
 * ninja-build/ninja `src/build_log.cc`.
 *
 * @packageDocumentation
 */

/** The seed ninja passes to MurmurHash64A (`0xDECAFBADDECAFBAD`). */
export const NINJA_MURMUR_SEED = 0xdecafbaddecafbadn;

// The multiplier m = 0xc6a4a7935bd1e995 in 16-bit limbs, low first.
const M0 = 0xe995;
const M1 = 0x5bd1;
const M2 = 0xa793;
const M3 = 0xc6a4;

// 64-bit words as two unsigned 32-bit halves: BigInt arithmetic allocates at
// every step, and a restore hashes every logged command twice.
let hi = 0;
let lo = 0;

/** (hi, lo) = (hi, lo) * m mod 2^64, by 16-bit limbs (each partial sum stays below 2^53). */
function timesM(): void {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const a2 = hi & 0xffff;
  const a3 = hi >>> 16;
  let carry = a0 * M0;
  const w0 = carry % 0x10000;
  carry = Math.floor(carry / 0x10000) + a1 * M0 + a0 * M1;
  const w1 = carry % 0x10000;
  carry = Math.floor(carry / 0x10000) + a2 * M0 + a1 * M1 + a0 * M2;
  const w2 = carry % 0x10000;
  carry = Math.floor(carry / 0x10000) + a3 * M0 + a2 * M1 + a1 * M2 + a0 * M3;
  const w3 = carry % 0x10000;
  lo = ((w1 << 16) | w0) >>> 0;
  hi = ((w3 << 16) | w2) >>> 0;
}

/** (hi, lo) ^= (hi, lo) >> 47. */
function xorShift(): void {
  lo = (lo ^ (hi >>> 15)) >>> 0;
}

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
  // h = seed ^ (len * m); len < 2^53.
  hi = Math.floor(len / 0x100000000) >>> 0;
  lo = len >>> 0;
  timesM();
  let h1 = (hi ^ Number(seed >> 32n)) >>> 0;
  let h0 = (lo ^ Number(seed & 0xffffffffn)) >>> 0;

  const blockEnd = len - (len % 8);
  for (let offset = 0; offset < blockEnd; offset += 8) {
    // k *= m; k ^= k >> r; k *= m; h ^= k; h *= m;
    lo = view.getUint32(offset, true);
    hi = view.getUint32(offset + 4, true);
    timesM();
    xorShift();
    timesM();
    hi = (hi ^ h1) >>> 0;
    lo = (lo ^ h0) >>> 0;
    timesM();
    h1 = hi;
    h0 = lo;
  }

  const tail = len & 7;
  if (tail > 0) {
    // The C switch falls through from case 7 down to case 1: byte i lands at bit 8 * i.
    for (let i = tail - 1; i >= 0; i--) {
      const byte = bytes[blockEnd + i] ?? 0;
      if (i >= 4) h1 = (h1 ^ (byte << (8 * (i - 4)))) >>> 0;
      else h0 = (h0 ^ (byte << (8 * i))) >>> 0;
    }
    hi = h1;
    lo = h0;
    timesM();
    h1 = hi;
    h0 = lo;
  }

  hi = h1;
  lo = h0;
  xorShift();
  timesM();
  xorShift();
  return (BigInt(hi) << 32n) | BigInt(lo);
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
