// Bundles orchestrate plugin packages into one CommonJS file each:
//
//   node packages/core/scripts/bundle-plugin.mjs <package dir>...
//
// reads <dir>/dist/index.js (the package's compiled ES module entry) and
// writes <dir>/dist/bundle.cjs, with @orchestrate/core left external. The
// package's exports map names it under the "require" condition; the CLI's
// plugin loader requires a .cjs entry instead of importing the ES module
// graph (one file instead of a dozen modules resolved, linked and compiled
// on every run: about 10 ms of start-up per plugin).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error('bundle-plugin.mjs: name at least one plugin package directory');
for (const dir of dirs) {
  const root = resolve(dir);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const target = pkg.exports?.['.']?.require;
  if (target !== './dist/bundle.cjs') {
    throw new Error(`bundle-plugin.mjs: ${pkg.name}'s exports["."].require must be "./dist/bundle.cjs" (found ${JSON.stringify(target)})`);
  }
  await build({
    absWorkingDir: root,
    entryPoints: ['dist/index.js'],
    outfile: join(root, 'dist', 'bundle.cjs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // One instance of the core: the CLI's own (its "require" entry, core.cjs).
    external: ['@orchestrate/core'],
    logLevel: 'warning',
    legalComments: 'linked',
    minifyWhitespace: true,
    minifySyntax: true,
  });
}
