// Bundles @orchestrate/core's entry points with their dependencies into
// dist/bundle/ (ESM, code split so the CLI, the library and the test helpers
// share one copy of every module). The CLI starts by loading a handful of
// files instead of several hundred: module loading was most of its start-up.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Chunk names carry content hashes: clear the old ones.
rmSync(join(root, 'dist/bundle'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    index: 'src/index.ts',
    'cli/bin': 'src/cli/bin.ts',
    'testing/index': 'src/testing/index.ts',
  },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // cosmiconfig loads TypeScript only for .ts configs, from the user's installation.
  external: ['typescript'],
  // Bundled CommonJS dependencies call require() for node's modules.
  banner: { js: "import { createRequire as __orchestrateCreateRequire } from 'node:module'; const require = __orchestrateCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'linked',
  // Less source to read and pre-parse at start-up; identifiers stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
});
