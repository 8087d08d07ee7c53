import { defineConfig } from 'vitest/config';

/**
 * The export condition under which every workspace package exports its
 * TypeScript sources (`"@orchestrate/source": "./src/index.ts"` in its
 * exports map). Tests resolve `@orchestrate/core` and the plugins through it,
 * so an edit is tested without `pnpm build` and a stale bundle never is; the
 * CLI run as a subprocess (`CLI_BIN`) is the build, which `pnpm test` makes
 * first. Node ignores the condition unless asked (`node -C @orchestrate/source`).
 */
const SOURCE_CONDITION = '@orchestrate/source';

export default defineConfig({
  // Test files run in vitest's server ("ssr") environment; its defaults, with ours first.
  ssr: { resolve: { conditions: [SOURCE_CONDITION, 'module', 'node', 'development|production'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
