/**
 * `orchestrate init`: writes a config for the build system found in a directory.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_SEARCH_PLACES } from '../config/load-config.js';
import { UsageError } from '../errors.js';

/** Build-system markers, most specific first, and the plugin each one calls for. */
const DETECTORS: ReadonlyArray<{ files: string[]; plugin: string }> = [
  { files: ['Cargo.toml'], plugin: '@orchestrate/plugin-cargo' },
  { files: ['CMakeLists.txt'], plugin: '@orchestrate/plugin-cmake' },
  { files: ['GNUmakefile', 'makefile', 'Makefile'], plugin: '@orchestrate/plugin-make' },
];

/** The plugin for the build system of `dir`, or `undefined`. */
export function detectPlugin(dir: string): string | undefined {
  return DETECTORS.find((d) => d.files.some((f) => existsSync(join(dir, f))))?.plugin;
}

/** Writes `orchestrate.config.json` in `dir` and returns its path. */
export async function initConfig(dir: string, options: { force?: boolean } = {}): Promise<string> {
  const existing = CONFIG_SEARCH_PLACES.filter((f) => f !== 'package.json').find((f) => existsSync(join(dir, f)));
  if (existing && !options.force) {
    throw new UsageError(`'${join(dir, existing)}' exists already (use --force to overwrite)`);
  }
  const plugin = detectPlugin(dir);
  if (!plugin) {
    throw new UsageError(`no Cargo.toml, CMakeLists.txt or Makefile in '${dir}': cannot tell the build system`);
  }
  const file = join(dir, 'orchestrate.config.json');
  await writeFile(file, `${JSON.stringify({ plugins: [plugin] }, null, 2)}\n`);
  return file;
}
