/**
 * Cargo's `.rustc_info.json` (the cache of `rustc -vV` and the target probes)
 * in one byte order: cargo writes its `outputs` from a Rust `HashMap`, whose
 * iteration order is seeded at random in each process, so the same compiler
 * and the same probes give the file's entries in another order from one build
 * to the next. Cargo reads it back into a map, so the order means nothing to
 * it; the capture sorts the entries by key, and a checkpoint of the same
 * sources is the same bytes (`times: flat` in a Nix build, `nix-build --check`).
 */

/** The captureFile/restoreFile transform of `.rustc_info.json`. */
export const TRANSFORM_RUSTC_INFO = 'cargo-rustc-info';

/**
 * `content` with the entries of each top-level map (`outputs`, `successes`)
 * sorted by key, written as cargo writes it (serde_json, compact). Anything
 * it cannot read is returned as it is.
 */
export function canonicalRustcInfo(content: Buffer): Buffer {
  const text = content.toString('utf8');
  // `rustc_fingerprint` is a u64 above 2^53: kept as its digits, not as a JS number.
  const head = /^\{"rustc_fingerprint":(\d+),/.exec(text);
  if (!head) return content;
  let parsed: unknown;
  try {
    parsed = JSON.parse(`{${text.slice(head[0].length)}`);
  } catch {
    return content;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return content;
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out[field] = value;
      continue;
    }
    // The keys are u64 hashes in decimal; JS orders them by insertion (above 2^32), so sorted as strings.
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
    out[field] = sorted;
  }
  return Buffer.from(`{"rustc_fingerprint":${head[1]},${JSON.stringify(out).slice(1)}`);
}
