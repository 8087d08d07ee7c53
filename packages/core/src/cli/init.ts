/**
 * `orchestrate init`: writes a config for the build system found in a directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CONFIG_SEARCH_PLACES } from '../config/load-config.js';
import { UsageError } from '../errors.js';

/** What `init` found: the build system, the config's plugin entry, and what the user should know. */
export interface Detection {
  readonly system: 'cargo' | 'autotools' | 'cmake' | 'make';
  /** The plugin entry: a package name, or `[package, options]`. */
  readonly plugin: string | [string, Record<string, unknown>];
  /** Said to the user: why this one, what to do before building. */
  readonly note?: string;
}

/**
 * The build system of `dir`, most specific first: Cargo; autotools already
 * configured here (`config.status`), over a CMakeLists.txt beside it; CMake;
 * autotools not configured yet; make.
 */
export function detectBuildSystem(dir: string): Detection | undefined {
  const has = (...files: string[]): boolean => files.some((f) => existsSync(join(dir, f)));
  const autotools = has('configure.ac', 'configure.in', 'configure');
  if (has('Cargo.toml')) return { system: 'cargo', plugin: '@orchestrate/plugin-cargo' };
  if (has('config.status')) {
    return {
      system: 'autotools',
      plugin: '@orchestrate/plugin-make',
      note: has('CMakeLists.txt')
        ? 'configured with autotools here (config.status), so the make plugin over the CMakeLists.txt beside it; run configure before each build as now'
        : 'configured with autotools here (config.status); run configure before each build as now, or give the make plugin a "configure" option',
    };
  }
  if (has('CMakeLists.txt')) {
    return {
      system: 'cmake',
      plugin: '@orchestrate/plugin-cmake',
      ...(autotools
        ? {
            note: "CMake chosen; this project also ships autotools' configure: run configure, then init --force, to build with make instead",
          }
        : {}),
    };
  }
  if (has('configure')) {
    return {
      system: 'autotools',
      plugin: ['@orchestrate/plugin-make', { configure: [] }],
      note: 'autotools, not configured yet: the make plugin runs ./configure (its "configure" option holds the arguments)',
    };
  }
  if (autotools) {
    return {
      system: 'autotools',
      plugin: '@orchestrate/plugin-make',
      note: 'autotools without a configure script: run autoreconf -i and ./configure before building',
    };
  }
  if (has('GNUmakefile', 'makefile', 'Makefile')) return { system: 'make', plugin: '@orchestrate/plugin-make' };
  return undefined;
}

/** The plugin package for the build system of `dir`, or `undefined`. */
export function detectPlugin(dir: string): string | undefined {
  const plugin = detectBuildSystem(dir)?.plugin;
  return Array.isArray(plugin) ? plugin[0] : plugin;
}

function hasOrchestrateKey(packageJson: string): boolean {
  try {
    const value = JSON.parse(readFileSync(packageJson, 'utf8')) as Record<string, unknown> | null;
    return typeof value === 'object' && value !== null && value['orchestrate'] !== undefined;
  } catch {
    return false;
  }
}

/**
 * The config file of `dir` that the config search finds first, if any: a new
 * `orchestrate.config.json` beside it would not be the one in effect.
 */
export function tryExistingConfig(dir: string): string | undefined {
  for (const place of CONFIG_SEARCH_PLACES) {
    const file = join(dir, place);
    if (!existsSync(file)) continue;
    if (place === 'package.json' && !hasOrchestrateKey(file)) continue;
    return file;
  }
  return undefined;
}

/** True when `.js` files below `dir` are ES modules (the nearest package.json says `"type": "module"`). */
function isEsmScope(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(d) === d) return false;
  }
}

/** The text of a config holding `value`, in the format of `file`. */
async function configText(file: string, value: Record<string, unknown>): Promise<string> {
  const json = JSON.stringify(value, null, 2);
  if (file.endsWith('/package.json')) {
    const pkg = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    return `${JSON.stringify({ ...pkg, orchestrate: value }, null, 2)}\n`;
  }
  if (file.endsWith('.mjs') || file.endsWith('.ts')) return `export default ${json};\n`;
  if (file.endsWith('.js')) return isEsmScope(dirname(file)) ? `export default ${json};\n` : `module.exports = ${json};\n`;
  // JSON, and YAML (a superset of JSON), with or without an extension.
  return `${json}\n`;
}

/**
 * Writes a config for the build system of `dir` and returns its path: a new
 * `orchestrate.config.json`, or with `force` the existing config in effect,
 * replaced in its own format (in package.json, its `orchestrate` key).
 */
export async function initConfig(dir: string, options: { force?: boolean } = {}): Promise<{ file: string; detected: Detection }> {
  const existing = tryExistingConfig(dir);
  if (existing && !options.force) {
    const what = existing.endsWith('/package.json') ? `'${existing}' has an "orchestrate" key already` : `'${existing}' exists already`;
    throw new UsageError(`${what} (use --force to overwrite)`);
  }
  const detected = detectBuildSystem(dir);
  if (!detected) {
    throw new UsageError(`no Cargo.toml, CMakeLists.txt, configure script or Makefile in '${dir}': cannot tell the build system`);
  }
  const file = existing ?? join(dir, 'orchestrate.config.json');
  await writeFile(file, await configText(file, { plugins: [detected.plugin] }));
  return { file, detected };
}
