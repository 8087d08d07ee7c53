/**
 * Recorded times without the build's clock (the config's `times: "flat"`, the
 * default in a Nix build): the same sources built twice with a deterministic
 * compiler give the same checkpoint, byte for byte, whenever and however
 * fast the builds ran.
 *
 * Why not keep the order of the times, as ranks? Because that order is not a
 * property of the sources: make runs jobs in parallel (`-j`, the make
 * plugin's default), so which of two unrelated objects was written first
 * changes from run to run, and two files written within one kernel clock tick
 * (1 to 10 ms: a compiler's `.d` and `.o`) share a time in one run and not in
 * the next. Ranks would differ, and so would the manifest.
 *
 * What a restore needs is less than the order. A checkpoint is captured right
 * after a successful build, when the build tool holds every target up to date;
 * make, ninja and cargo all take an equal time as up to date (make and ninja
 * rebuild only for a strictly newer input, cargo skips on `<=`). So every
 * recorded time at or after {@link FLAT_EPOCH_NS} becomes that one time: the
 * restored tree is up to date for the tool, and each added or changed source,
 * dated after it by the restore, makes exactly its dependents rebuild. Times
 * before the epoch are kept as values: they are deterministic already (a Nix
 * unpack stamps every source with 1 s, the Nix store every file) and stay
 * below the flat time, so the map never reverses two times (`a <= b` gives
 * `f(a) <= f(b)`), and equal times stay equal.
 *
 * What is lost is strictness between times of the build: a target the build
 * left older than one of its inputs (a recipe that writes its target only
 * when the content changes, ninja's `restat`) is taken as up to date after the
 * restore. With the inputs unchanged, running it again would change nothing.
 *
 * Not the default outside Nix: cargo's fingerprints keep some mtimes as
 * values (a build script without `rerun-if` lines is fresh only while the
 * package's newest mtime equals the one it recorded), which this changes.
 * Inside a Nix build the sources keep their 1 s, so those stay fresh there.
 */

/** Every recorded time at or after this becomes this: 1e18 ns, 2001-09-09T01:46:40Z (on every file system's grid). */
export const FLAT_EPOCH_NS = 1_000_000_000_000_000_000n;

/** A recorded time in flat mode: {@link FLAT_EPOCH_NS} from the epoch on, else the time itself. */
export function flatTime(ns: bigint): bigint {
  return ns >= FLAT_EPOCH_NS ? FLAT_EPOCH_NS : ns;
}

/**
 * Rewrites the `mtimeNs` of every record of `records` as {@link flatTime}
 * maps it. Returns a new map; the input is not changed.
 */
export function flattenRecordedTimes<T extends { readonly mtimeNs: string }>(records: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [path, record] of Object.entries(records)) out[path] = { ...record, mtimeNs: flatTime(BigInt(record.mtimeNs)).toString() };
  return out;
}

/**
 * The manifest's `createdAt`: `SOURCE_DATE_EPOCH` (seconds, as
 * reproducible-builds.org defines it) when set to a whole number, else now.
 */
export function checkpointCreatedAt(env: Readonly<Record<string, string | undefined>>, now: () => Date = () => new Date()): string {
  const epoch = env['SOURCE_DATE_EPOCH'];
  if (epoch !== undefined && /^\d{1,12}$/.test(epoch.trim())) return new Date(Number(epoch.trim()) * 1000).toISOString();
  return now().toISOString();
}
