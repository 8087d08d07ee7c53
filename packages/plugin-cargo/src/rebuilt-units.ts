/**
 * Which units cargo is bound to compile again after a restore, and which of
 * the checkpoint's files are therefore not worth writing back.
 *
 * A compile unit whose dep-info lists a source the change set modified or
 * removed is stale for cargo (the core dates a modified source strictly newer
 * than every recorded time; a removed one is missing), and every unit that
 * depends on it is compiled again after it ("the dependency … was rebuilt").
 * rustc then rewrites their outputs in `deps/` from scratch, so restoring the
 * old ones only costs time: on bench/rust-app the binary is 15 MB of the 112
 * MB a relocated restore writes.
 *
 * Leaving an output out can never make a build stale: a unit with a missing
 * output is compiled by cargo (`check_filesystem`: an output that cannot be
 * stat'ed makes the unit stale), so a wrong guess costs one compilation and
 * nothing else. Only `deps/` files named after the unit
 * (`[lib]<crate>-<hash>[.<ext>]`, the hash of its `.fingerprint/` directory)
 * are left out; `.fingerprint/`, `build/` (build script binaries and their
 * `output`) and `incremental/` are restored as before.
 *
 * @packageDocumentation
 */
import { posix } from 'node:path';
import { fingerprintHexToDecimal, tryParseFingerprintJson, tryParseUnitDirName, tryParseUnitName } from './fingerprint-files.js';
import { tryParseDepInfo } from './dep-info.js';
import { SOURCE_ROOT_PLACEHOLDER } from './relocation.js';

/** Reads a checkpoint file by its path relative to the build directory; `undefined` when it is not in the checkpoint. */
export type CheckpointFileReader = (path: string) => Promise<Buffer | undefined>;

/** A unit cargo will compile again, and why. */
export interface RebuiltUnit {
  /** `<profile>/.fingerprint/<pkg>-<hash>/<unit>`. */
  readonly unit: string;
  readonly why: string;
}

/** Result of {@link findRebuiltUnits}. */
export interface RebuiltUnits {
  readonly units: readonly RebuiltUnit[];
  /** Checkpoint paths (relative to the build directory) that need not be restored. */
  readonly skip: readonly string[];
}

interface UnitEntry {
  readonly profile: string;
  readonly dirName: string;
  readonly unitName: string;
  readonly packageName: string;
  readonly metadataHash: string;
}

/**
 * Finds the compile units whose sources changed and their dependents, from the
 * checkpoint's `.fingerprint/` files, and the `deps/` outputs they rewrite.
 *
 * @param paths every path of the checkpoint's state, relative to the build directory
 * @param changed source paths modified or removed, relative to the workspace root
 * @param packageDirs workspace member name → its directory relative to the workspace root
 *   (only members list sources relative to the package; other packages are not checked by mtime)
 * @param read reads a checkpoint file (dep-info as captured, with placeholders)
 */
export async function findRebuiltUnits(
  paths: Iterable<string>,
  changed: ReadonlySet<string>,
  packageDirs: ReadonlyMap<string, string>,
  read: CheckpointFileReader,
): Promise<RebuiltUnits> {
  const all = [...paths];
  const units = new Map<string, UnitEntry>();
  for (const path of all) {
    // <profile>/.fingerprint/<pkg>-<hash>/<unit>.json, profile `debug` or `<triple>/debug`
    const m = /^(.+)\/\.fingerprint\/([^/]+)\/([^/]+)\.json$/.exec(path);
    if (!m) continue;
    const [, profile, dirName, unitName] = m as unknown as [string, string, string, string];
    const dir = tryParseUnitDirName(dirName);
    const name = tryParseUnitName(unitName);
    if (!dir || !name) continue;
    units.set(`${profile}/.fingerprint/${dirName}/${unitName}`, { profile, dirName, unitName, ...dir });
  }
  if (changed.size === 0 || units.size === 0) return { units: [], skip: [] };

  // Units of workspace members whose dep-info names a changed source.
  const rebuilt = new Map<string, string>();
  for (const [key, unit] of units) {
    const packageDir = packageDirs.get(unit.packageName);
    if (packageDir === undefined) continue;
    const bytes = await read(`${unit.profile}/.fingerprint/${unit.dirName}/dep-${unit.unitName}`);
    const info = bytes && tryParseDepInfo(bytes);
    if (!info) continue;
    for (const entry of info.files) {
      let source: string | undefined;
      if (entry.type === 'package-root-relative') source = posix.normalize(posix.join(packageDir, entry.path));
      else if (entry.path.startsWith(`${SOURCE_ROOT_PLACEHOLDER}/`))
        source = posix.normalize(entry.path.slice(SOURCE_ROOT_PLACEHOLDER.length + 1));
      if (source !== undefined && changed.has(source)) {
        rebuilt.set(key, `'${source}' changed`);
        break;
      }
    }
  }
  if (rebuilt.size === 0) return { units: [], skip: [] };

  // Their dependents, through the fingerprint hashes that each json's `deps` names.
  const byHash = new Map<string, string>();
  const depsOf = new Map<string, string[]>();
  for (const [key, unit] of units) {
    const base = `${unit.profile}/.fingerprint/${unit.dirName}/${unit.unitName}`;
    const hash = (await read(base))?.toString('latin1').trim();
    if (hash !== undefined && /^[0-9a-f]{16}$/.test(hash)) byHash.set(fingerprintHexToDecimal(hash), key);
    const json = await read(`${base}.json`);
    const parsed = json && tryParseFingerprintJson(json.toString('utf8'));
    depsOf.set(key, parsed ? parsed.deps.map((d) => d.fingerprint) : []);
  }
  for (let grew = true; grew;) {
    grew = false;
    for (const [key, deps] of depsOf) {
      if (rebuilt.has(key)) continue;
      for (const dep of deps) {
        const depKey = byHash.get(dep);
        if (depKey === undefined || !rebuilt.has(depKey)) continue;
        rebuilt.set(key, `it depends on ${units.get(depKey)?.unitName ?? depKey}, which is compiled again`);
        grew = true;
        break;
      }
    }
  }

  // Their outputs in deps/: <crate>-<hash>[.ext] and lib<crate>-<hash>.<ext>.
  const skip: string[] = [];
  for (const key of rebuilt.keys()) {
    const unit = units.get(key) as UnitEntry;
    const name = tryParseUnitName(unit.unitName);
    // Build scripts are compiled into build/ and run units write build/: neither is left out.
    if (!name || name.mode === 'run' || name.targetKind === 'build-script') continue;
    const crate = name.targetName.replace(/-/g, '_');
    const stem = new RegExp(`^(?:lib)?${escapeRegExp(crate)}-${unit.metadataHash}(?:\\.[A-Za-z0-9]+)?$`);
    const prefix = `${unit.profile}/deps/`;
    for (const path of all) {
      if (path.startsWith(prefix) && !path.slice(prefix.length).includes('/') && stem.test(path.slice(prefix.length))) skip.push(path);
    }
  }
  return { units: [...rebuilt].map(([unit, why]) => ({ unit, why })), skip: skip.sort() };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
