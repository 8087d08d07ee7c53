/**
 * Recorded times as an order (the config's `times: "order"`, the default in a
 * Nix build): the same sources built twice with a deterministic compiler give
 * the same checkpoint, byte for byte, whenever the builds ran.
 *
 * A restore never needs the wall-clock values: it re-bases times below the
 * machine's clock anyway, and make, ninja and cargo compare a state file's
 * time only with other times of the tree. What they need is the order, with
 * equal times kept equal (all three take an equal time as up to date). So
 * every distinct recorded time at or after {@link ORDER_EPOCH_NS} is replaced
 * by its rank on a grid: `ORDER_EPOCH_NS + rank × ORDER_STEP_NS`. Earlier
 * times are kept as values: they are deterministic already (a Nix unpack
 * stamps every source with 1 s, the Nix store every file) and stay below
 * every ranked one, so the order holds across the two groups too.
 *
 * Not the default outside Nix: cargo's fingerprints keep some mtimes as
 * values (a build script without `rerun-if` lines is fresh only while the
 * package's newest mtime equals the one it recorded), which a rank changes.
 * Inside a Nix build the sources keep their 1 s, so those stay fresh there.
 */
import { COARSEST_GRANULARITY_NS } from './times.js';

/** Ranked times start here: 1e18 ns, 2001-09-09T01:46:40Z. Earlier times are kept as they are. */
export const ORDER_EPOCH_NS = 1_000_000_000_000_000_000n;
/**
 * One rank apart: the coarsest timestamp grid (2 s, FAT), so the order
 * survives any file system's truncation at the restore, as planTimes' shift does.
 */
export const ORDER_STEP_NS = COARSEST_GRANULARITY_NS;

/**
 * Maps each time of `times` (ns) to its time in order mode: kept when before
 * {@link ORDER_EPOCH_NS}, else its rank among the distinct times at or after
 * it, on the grid. Strictly monotonic: `a < b` iff `map(a) < map(b)`.
 */
export function rankTimes(times: Iterable<bigint>): Map<bigint, bigint> {
  const late = [...new Set([...times].filter((t) => t >= ORDER_EPOCH_NS))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out = new Map<bigint, bigint>();
  for (const t of times) if (t < ORDER_EPOCH_NS) out.set(t, t);
  late.forEach((t, rank) => out.set(t, ORDER_EPOCH_NS + BigInt(rank) * ORDER_STEP_NS));
  return out;
}

/**
 * Rewrites the `mtimeNs` of every record of `groups` (a manifest's sources
 * and state, ranked together: one order for the whole tree) as
 * {@link rankTimes} maps it. Returns new maps; the input is not changed.
 */
export function orderRecordedTimes<T extends { readonly mtimeNs: string }>(
  groups: readonly Readonly<Record<string, T>>[],
): Record<string, T>[] {
  const all: bigint[] = [];
  for (const group of groups) for (const record of Object.values(group)) all.push(BigInt(record.mtimeNs));
  const ranked = rankTimes(all);
  return groups.map((group) => {
    const out: Record<string, T> = {};
    for (const [path, record] of Object.entries(group)) {
      out[path] = { ...record, mtimeNs: (ranked.get(BigInt(record.mtimeNs)) as bigint).toString() };
    }
    return out;
  });
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
