/**
 * The units of one profile directory, read from its `.fingerprint/` tree:
 * ```text
 * <build-dir>/<profile>/.fingerprint/<pkg>-<16 hex>/
 *   <unit>                 16 hex: the unit's fingerprint hash
 *   <unit>.json            the fingerprint (rustc, features, profile, path, deps, local, …)
 *   dep-<unit>             binary dep-info (see dep-info.ts); not for run-build-script units
 *   output-<unit>          cached compiler diagnostics, only when there were any
 *   invoked.timestamp      mtime = start of the last compilation
 * ```
 * `<unit>` is `[test-|doc-|run-]<target kind>-<target name>` (cargo
 * `CompilationFiles::fingerprint_file_path`), where the kind is `lib` (also
 * proc-macros), `bin`, `integration-test`, `example`, `bench` or `build-script`.
 * `cargo check` units are named like builds (`lib-x`) and differ only by hash.
 * `<profile>` is `debug`, `release` or the profile name, under
 * `<build-dir>/<triple>/` when cross-compiling.
 *
 * @packageDocumentation
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Cargo's target kind description. */
export type TargetKind = 'lib' | 'bin' | 'integration-test' | 'example' | 'bench' | 'build-script';

/** Compile mode as encoded in the unit file name's prefix. */
export type UnitMode = 'build' | 'test' | 'doc' | 'run';

/**
 * A unit's short kind: `lib`, `bin`, …, `test` for anything compiled as a test
 * harness, `doc`, `build-script` (compiling build.rs) and `run-build-script` (running it).
 */
export type UnitKind = TargetKind | 'test' | 'doc' | 'run-build-script';

/** A decoded `<unit>` file name. */
export interface UnitName {
  readonly mode: UnitMode;
  readonly targetKind: TargetKind;
  readonly targetName: string;
  readonly kind: UnitKind;
}

/** One dependency edge of a fingerprint json (`deps`). */
export interface FingerprintDep {
  /** Hash of the dependency's package id (decimal u64, kept as a string). */
  readonly pkgIdHash: string;
  /** The crate name the unit uses for it. */
  readonly name: string;
  readonly public: boolean;
  /** The dependency's fingerprint hash (decimal u64 string); see {@link FingerprintUnit.hashDecimal}. */
  readonly fingerprint: string;
}

/** The parts of a fingerprint json this module interprets; u64 hashes stay decimal strings. */
export interface FingerprintJson {
  readonly rustc: string;
  readonly features: string;
  readonly declaredFeatures?: string;
  readonly target: string;
  readonly profile: string;
  readonly path: string;
  readonly deps: readonly FingerprintDep[];
  /** `local` entries as cargo wrote them (`CheckDepInfo`, `RerunIfChanged`, `RerunIfEnvChanged`, `Precalculated`). */
  readonly local: readonly Record<string, unknown>[];
  readonly rustflags: readonly string[];
  readonly config: string;
  readonly compileKind: string;
}

/** One unit found in a `.fingerprint/<pkg>-<hash>/` directory. */
export interface FingerprintUnit extends UnitName {
  /** Absolute path of `.fingerprint/<pkg>-<hash>/`. */
  readonly dir: string;
  /** `<pkg>-<hash>`: also the name of the unit's `build/` directory for build scripts. */
  readonly dirName: string;
  /** Package name (the dir name without `-<hash>`). */
  readonly packageName: string;
  /** The 16-hex metadata hash of the dir name. */
  readonly metadataHash: string;
  /** The `<unit>` file name. */
  readonly unitName: string;
  /** Content of the `<unit>` file: 16 hex, or `undefined` if missing. */
  readonly hashHex?: string;
  /** {@link FingerprintUnit.hashHex} as a decimal u64, as other units' `deps` refer to it ({@link fingerprintHexToDecimal}). */
  readonly hashDecimal?: string;
  /** Absolute path of `dep-<unit>`, when it exists. */
  readonly depInfoFile?: string;
  /** Parsed `<unit>.json`, when it exists and parses. */
  readonly fingerprint?: FingerprintJson;
}

const FLAVORS: readonly [string, UnitMode][] = [
  ['test-', 'test'],
  ['doc-', 'doc'],
  ['run-', 'run'],
];
const TARGET_KINDS: readonly TargetKind[] = ['integration-test', 'build-script', 'example', 'bench', 'lib', 'bin'];

/**
 * Converts the 16-hex content of a `<unit>` hash file to the decimal u64 that other
 * units' json `deps` use. Cargo writes the hash's little-endian bytes as hex
 * (`util::to_hex`), so `8b4a2345474e2905` is 0x05294e4745234a8b = 371914512244361867.
 */
export function fingerprintHexToDecimal(hex: string): string {
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new TypeError(`Not a 16-hex fingerprint hash: "${hex}"`);
  let value = 0n;
  for (let i = 14; i >= 0; i -= 2) value = (value << 8n) | BigInt(`0x${hex.slice(i, i + 2)}`);
  return value.toString();
}

/** Decodes a unit file name such as `test-integration-test-cli`; `undefined` if it is not one. */
export function tryParseUnitName(name: string): UnitName | undefined {
  let mode: UnitMode = 'build';
  let rest = name;
  for (const [prefix, m] of FLAVORS) {
    if (rest.startsWith(prefix)) {
      mode = m;
      rest = rest.slice(prefix.length);
      break;
    }
  }
  for (const targetKind of TARGET_KINDS) {
    if (!rest.startsWith(`${targetKind}-`)) continue;
    const targetName = rest.slice(targetKind.length + 1);
    if (targetName === '') return undefined;
    const kind: UnitKind = mode === 'test' ? 'test' : mode === 'doc' ? 'doc' : mode === 'run' ? 'run-build-script' : targetKind;
    return { mode, targetKind, targetName, kind };
  }
  return undefined;
}

/** Splits `<pkg>-<16 hex>`; `undefined` for other names. */
export function tryParseUnitDirName(dirName: string): { packageName: string; metadataHash: string } | undefined {
  const m = /^(.+)-([0-9a-f]{16})$/.exec(dirName);
  if (!m?.[1] || !m[2]) return undefined;
  return { packageName: m[1], metadataHash: m[2] };
}

/**
 * Quotes every JSON number of more than 15 digits (outside strings) so u64 hashes
 * survive `JSON.parse` exactly.
 */
function quoteBigIntegers(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    if (c >= '0' && c <= '9') {
      let j = i;
      while (j < text.length && /[0-9]/.test(text[j] as string)) j++;
      const digits = text.slice(i, j);
      out += digits.length > 15 ? `"${digits}"` : digits;
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}

const asString = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Parses a fingerprint json, keeping u64 values exact; `undefined` if it is not one. */
export function tryParseFingerprintJson(text: string): FingerprintJson | undefined {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(quoteBigIntegers(text)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || !Array.isArray(raw['deps'])) return undefined;
  const deps: FingerprintDep[] = [];
  for (const d of raw['deps'] as unknown[]) {
    if (!Array.isArray(d) || d.length < 4) return undefined;
    deps.push({ pkgIdHash: asString(d[0]), name: asString(d[1]), public: d[2] === true, fingerprint: asString(d[3]) });
  }
  const json: FingerprintJson = {
    rustc: asString(raw['rustc']),
    features: asString(raw['features']),
    target: asString(raw['target']),
    profile: asString(raw['profile']),
    path: asString(raw['path']),
    deps,
    local: Array.isArray(raw['local']) ? (raw['local'] as Record<string, unknown>[]) : [],
    rustflags: Array.isArray(raw['rustflags']) ? (raw['rustflags'] as unknown[]).map(asString) : [],
    config: asString(raw['config']),
    compileKind: asString(raw['compile_kind']),
  };
  return raw['declared_features'] === undefined ? json : { ...json, declaredFeatures: asString(raw['declared_features']) };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Lists every unit of a profile directory (`<build-dir>/debug`, …) by reading its
 * `.fingerprint/` tree, sorted by dir then unit name. A missing `.fingerprint/`
 * yields `[]`.
 */
export async function listFingerprintUnits(profileDir: string): Promise<FingerprintUnit[]> {
  const root = path.join(profileDir, '.fingerprint');
  let dirs: string[];
  try {
    dirs = (await fs.readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const units: FingerprintUnit[] = [];
  for (const dirName of dirs.sort()) {
    const parsedDir = tryParseUnitDirName(dirName);
    if (!parsedDir) continue;
    const dir = path.join(root, dirName);
    const files = new Set(await fs.readdir(dir));
    // A unit is named by its json, or by its hash file when the json is missing.
    const names = new Set<string>();
    for (const f of files) {
      if (f.endsWith('.json')) names.add(f.slice(0, -'.json'.length));
      else if (tryParseUnitName(f) && !f.startsWith('dep-') && !f.startsWith('output-')) names.add(f);
    }
    for (const unitName of [...names].sort()) {
      const name = tryParseUnitName(unitName);
      if (!name) continue;
      const hashText = files.has(unitName) ? await readIfExists(path.join(dir, unitName)) : undefined;
      const hashHex = hashText !== undefined && /^[0-9a-f]{16}$/.test(hashText.trim()) ? hashText.trim() : undefined;
      const jsonText = files.has(`${unitName}.json`) ? await readIfExists(path.join(dir, `${unitName}.json`)) : undefined;
      const fingerprint = jsonText === undefined ? undefined : tryParseFingerprintJson(jsonText);
      units.push({
        ...name,
        dir,
        dirName,
        ...parsedDir,
        unitName,
        ...(hashHex === undefined ? {} : { hashHex, hashDecimal: fingerprintHexToDecimal(hashHex) }),
        ...(files.has(`dep-${unitName}`) ? { depInfoFile: path.join(dir, `dep-${unitName}`) } : {}),
        ...(fingerprint === undefined ? {} : { fingerprint }),
      });
    }
  }
  return units;
}

/**
 * Maps each unit to the units it depends on, by matching `deps[].fingerprint`
 * against the units' hashes. Dependencies not found in `units` are left out.
 */
export function linkFingerprintUnits(units: readonly FingerprintUnit[]): Map<FingerprintUnit, FingerprintUnit[]> {
  const byHash = new Map<string, FingerprintUnit>();
  for (const u of units) if (u.hashDecimal !== undefined) byHash.set(u.hashDecimal, u);
  const graph = new Map<FingerprintUnit, FingerprintUnit[]>();
  for (const u of units) {
    const deps = (u.fingerprint?.deps ?? []).flatMap((d) => {
      const dep = byHash.get(d.fingerprint);
      return dep ? [dep] : [];
    });
    graph.set(u, deps);
  }
  return graph;
}

/**
 * The profile directories of a build dir: `<build-dir>/<profile>` and
 * `<build-dir>/<triple>/<profile>`, i.e. every directory that has a `.fingerprint/`.
 */
export async function listProfileDirs(buildDir: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (entries.some((e) => e.isDirectory() && e.name === '.fingerprint')) found.push(dir);
    if (depth === 0) return;
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) await visit(path.join(dir, e.name), depth - 1);
  };
  await visit(buildDir, 2);
  return found.sort();
}
