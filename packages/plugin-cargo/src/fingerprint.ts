/**
 * The cargo plugin's fingerprint entries: what makes a restored target
 * directory useless as a whole (another rustc or cargo, other flags for every
 * unit, another profile or target), and what cargo's own fingerprints cannot
 * see. What cargo tracks per unit (Cargo.toml, Cargo.lock, features enabled
 * by manifests, `rerun-if-env-changed` variables) is left to cargo.
 *
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ResolvedCargoOptions } from './options.js';

/**
 * Variables whose values change every unit's fingerprint, or which tools in
 * cargo's fingerprint depend on. A change means the checkpoint is useless, so
 * the restore is skipped with the variable named.
 */
export const FINGERPRINT_ENV: readonly string[] = [
  'RUSTC',
  'RUSTDOC',
  'RUSTC_WRAPPER',
  'RUSTC_WORKSPACE_WRAPPER',
  'RUSTFLAGS',
  'CARGO_ENCODED_RUSTFLAGS',
  'RUSTDOCFLAGS',
  'CARGO_ENCODED_RUSTDOCFLAGS',
  'CARGO_INCREMENTAL',
  'RUSTC_BOOTSTRAP',
  'RUSTUP_TOOLCHAIN',
];

/**
 * Prefixes of configuration variables (`CARGO_BUILD_*`, `CARGO_PROFILE_*`,
 * `CARGO_TARGET_<triple>_*`, `CARGO_UNSTABLE_*`), recorded as one entry each.
 */
export const FINGERPRINT_ENV_PREFIXES: readonly string[] = ['CARGO_BUILD_', 'CARGO_PROFILE_', 'CARGO_TARGET_', 'CARGO_UNSTABLE_'];

/**
 * Variables under those prefixes that only say where the output goes. They are
 * the location, which relocation handles; recording them would tie a
 * checkpoint to one absolute path.
 */
export const LOCATION_ENV: ReadonlySet<string> = new Set(['CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET_DIR', 'CARGO_BUILD_BUILD_DIR']);

/** `name=value` pairs of the environment under `prefix`, sorted, location variables left out. */
export function prefixedEnv(env: Readonly<Record<string, string | undefined>>, prefix: string): string {
  return Object.entries(env)
    .filter(([name, value]) => name.startsWith(prefix) && value !== undefined && !LOCATION_ENV.has(name))
    .map(([name, value]) => `${name}=${value}`)
    .sort()
    .join('\n');
}

/** The cargo home cargo uses: `$CARGO_HOME`, else `~/.cargo`. Registry and git sources live there, and cargo hashes their absolute paths. */
export function cargoHome(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const value = env['CARGO_HOME'];
  return value ? resolve(cwd, value) : join(env['HOME'] ?? homedir(), '.cargo');
}

/** How cargo decides that a unit's sources changed. */
export type FreshnessMode = 'mtime' | 'checksum';

/** Where checksum freshness was seen to be enabled, for the log. */
export interface FreshnessDetection {
  readonly mode: FreshnessMode;
  readonly source?: string;
}

/** Config files cargo reads, nearest first (cargo's hierarchical config), and the cargo home's. */
export function cargoConfigFiles(cwd: string, home: string): string[] {
  const files: string[] = [];
  let dir = resolve(cwd);
  for (;;) {
    files.push(join(dir, '.cargo', 'config.toml'), join(dir, '.cargo', 'config'));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  files.push(join(home, 'config.toml'), join(home, 'config'));
  return files;
}

/** True when a config file's text enables checksum freshness (`[unstable] checksum-freshness = true` or `build.fingerprint = "content"`). */
export function configEnablesChecksums(text: string): boolean {
  return /^\s*checksum-freshness\s*=\s*true\b/m.test(text) || /^\s*(?:build\.)?fingerprint\s*=\s*["']content["']/m.test(text);
}

/**
 * Detects cargo's content-hash freshness (`-Zchecksum-freshness`, nightly
 * only): in the extra arguments, the environment, or a config file. Under it
 * rustc units are compared by content and only `rerun-if-changed` stays
 * mtime-based; the checkpoint's dep-info files differ (they carry checksums),
 * so the mode is part of the fingerprint.
 */
export async function detectFreshness(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  configFiles: readonly string[],
): Promise<FreshnessDetection> {
  if (args.some((a) => a === '-Zchecksum-freshness' || a === 'checksum-freshness')) {
    return { mode: 'checksum', source: 'the plugin arguments' };
  }
  if (/^(1|true)$/i.test(env['CARGO_UNSTABLE_CHECKSUM_FRESHNESS'] ?? '')) {
    return { mode: 'checksum', source: 'CARGO_UNSTABLE_CHECKSUM_FRESHNESS' };
  }
  if ((env['CARGO_BUILD_FINGERPRINT'] ?? '') === 'content') return { mode: 'checksum', source: 'CARGO_BUILD_FINGERPRINT' };
  for (const file of configFiles) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined && configEnablesChecksums(text)) return { mode: 'checksum', source: file };
  }
  return { mode: 'mtime' };
}

/** The fingerprint entries that depend on the plugin's options alone. */
export function optionEntries(options: ResolvedCargoOptions): Record<string, string> {
  return {
    'cargo.profile': options.profile,
    'cargo.target': options.target ?? 'host',
    'cargo.features': JSON.stringify({
      features: options.features,
      allFeatures: options.allFeatures,
      noDefaultFeatures: options.noDefaultFeatures,
    }),
    'cargo.packages': options.workspace
      ? JSON.stringify({ workspace: true, packages: options.packages })
      : JSON.stringify(options.packages),
    'cargo.args': JSON.stringify(options.args),
    // The option, not the prefixes it maps: those are this checkout's directories, by design.
    'cargo.relocatable': String(options.relocatable),
  };
}
