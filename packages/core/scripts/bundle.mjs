// Bundles @orchestrate/core with its dependencies into dist/bundle/:
//
//   core.cjs          the public API and the CLI, one CommonJS file
//   index.js          `@orchestrate/core` for plugins: an ES module re-exporting core.cjs
//   cli/bin.cjs       the `orchestrate` executable: src/cli/startup.ts, which loads core.cjs
//   testing/index.js  `@orchestrate/core/testing`, an ES module of its own
//
// The CLI starts by reading two files instead of several hundred modules:
// module loading and compiling was most of its start-up. How the CLI loads
// core.cjs (a V8 code cache, the import() bridge, the switch) is in
// src/cli/startup.ts; this script only makes the files it loads, with the
// prelude and the import() rewrite that module defines.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// tsc's output of src/cli/startup.ts (`pnpm build` runs tsc first): its definitions only, it starts nothing.
import { bundlePrelude, IMPORT_CALL } from '../dist/cli/startup.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/bundle');
rmSync(out, { recursive: true, force: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // cosmiconfig loads TypeScript only for .ts configs, from the user's installation.
  // zstd-napi is a native optional dependency, loaded by node where it installed (store/remote/compression.ts).
  external: ['typescript', 'zstd-napi'],
  logLevel: 'warning',
  legalComments: 'linked',
  // Less source to read and pre-parse at start-up; identifiers stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
};
// ES-module sources in a CommonJS file: import.meta from the file's own location (set by the prelude).
const importMetaUrl = '__orchestrateImportMetaUrl';
const cjsImportMeta = { 'import.meta.url': importMetaUrl, 'import.meta.dirname': '__dirname' };

await build({ ...common, define: cjsImportMeta, entryPoints: ['src/core-bundle.ts'], outfile: join(out, 'core.cjs'), format: 'cjs' });

// import() (plugins, ES-module configs) goes through startup.ts's bridge: see IMPORT_CALL there.
const core = join(out, 'core.cjs');
let calls = 0;
const text = readFileSync(core, 'utf8').replace(/(?<![\w$.])import\(/g, () => {
  calls++;
  return `${IMPORT_CALL}(`;
});
if (calls === 0) throw new Error('bundle.mjs: no import() found in core.cjs; the importer rewrite is stale');
const strict = '"use strict";';
if (!text.startsWith(strict)) throw new Error('bundle.mjs: core.cjs does not start with "use strict"');
writeFileSync(core, `${strict}\n${bundlePrelude(importMetaUrl)}\n${text.slice(strict.length)}`);
await build({
  ...common,
  entryPoints: ['src/cli/bin.ts'],
  outfile: join(out, 'cli/bin.cjs'),
  format: 'cjs',
  legalComments: 'none',
});
await build({
  ...common,
  entryPoints: ['src/testing/index.ts'],
  outfile: join(out, 'testing/index.js'),
  format: 'esm',
  // Bundled CommonJS dependencies call require() for node's modules.
  banner: {
    js: "import { createRequire as __orchestrateCreateRequire } from 'node:module'; const require = __orchestrateCreateRequire(import.meta.url);",
  },
});
// The facade requires core.cjs instead of `export * from './core.cjs'`: importing
// CommonJS from an ES module makes node lex the whole file for its export names
// (~50 ms for this one); require() does not, and the names are listed here.
const names = Object.keys(createRequire(import.meta.url)(core)).filter((name) => name !== 'runCliProcess' && name !== 'default');
if (names.some((name) => !/^[A-Za-z_$][\w$]*$/.test(name))) throw new Error(`bundle.mjs: unexpected export names: ${names.join(', ')}`);
writeFileSync(
  join(out, 'index.js'),
  [
    '// @orchestrate/core: the API of the CLI bundle, shared with the CLI (see src/cli/startup.ts).',
    "import { createRequire } from 'node:module';",
    "const core = createRequire(import.meta.url)('./core.cjs');",
    `export const { ${names.sort().join(', ')} } = core;`,
    '',
  ].join('\n'),
);
