#!/usr/bin/env node
// pnpm test:fuzz [--runs N] [--steps N] [--seed S] [vitest arguments…]
//
// Runs the differential tests (packages/*/test/differential.test.ts) with
// random seeds: ORCHESTRATE_FUZZ=1, `--runs` → ORCHESTRATE_FUZZ_RUNS (seeds
// per test, default 5), `--steps` → ORCHESTRATE_FUZZ_STEPS, `--seed` →
// ORCHESTRATE_FUZZ_SEED (replays one seed; the variable may be set directly).
// Other arguments go to vitest: a test file narrows the run, `-t` a test name.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FLAGS = { '--runs': 'ORCHESTRATE_FUZZ_RUNS', '--steps': 'ORCHESTRATE_FUZZ_STEPS', '--seed': 'ORCHESTRATE_FUZZ_SEED' };
const env = { ...process.env, ORCHESTRATE_FUZZ: '1' };
const rest = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split('=', 2);
  const name = FLAGS[flag];
  if (name === undefined) {
    rest.push(args[i]);
    continue;
  }
  const value = inline ?? args[++i];
  if (value === undefined || !/^\d+$/.test(value)) {
    console.error(`test:fuzz: ${flag} takes a non-negative integer, not ${JSON.stringify(value ?? '')}`);
    process.exit(2);
  }
  env[name] = value;
}
// vitest's file filters match paths by substring: this one, every plugin's differential test.
const files = rest.some((a) => a.endsWith('.test.ts')) ? [] : ['test/differential.test.ts'];
const vitest = fileURLToPath(new URL('../node_modules/.bin/vitest', import.meta.url));
const result = spawnSync(vitest, ['run', ...files, ...rest], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
