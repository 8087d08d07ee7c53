/**
 * Where this package is installed and its version. Found by walking up from
 * this module to the package's own package.json, so it holds both for the
 * compiled modules and for the bundled ones (which live elsewhere in dist/).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageJson {
  name?: string;
  version?: string;
  bin?: Record<string, string>;
}

function findPackage(): { root: string; json: PackageJson } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      if (json.name === '@orchestrate/core') return { root: dir, json };
    } catch {
      // not here
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of @orchestrate/core above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const found = findPackage();

/** The directory of @orchestrate/core's package.json. */
export const PACKAGE_ROOT = found.root;
/** @orchestrate/core's version. */
export const VERSION = found.json.version ?? '0.0.0';
/** The `orchestrate` executable of this installation. */
export const CLI_PATH = join(found.root, found.json.bin?.['orchestrate'] ?? 'dist/bundle/cli/bin.cjs');
