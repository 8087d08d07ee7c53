/**
 * A scenario harness for plugin tests: a first full build in copy A saves a
 * checkpoint; each scenario makes a fresh copy B at another absolute path
 * (every file newly written, as a clone gives), applies a change, runs
 * `orchestrate build`, and builds the same change from clean in copy C, so
 * the test can compare B with C byte for byte and assert the exact set of
 * recompiled units.
 */
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runProcess } from '../process.js';
import { copyProject, diffTrees, runOrchestrate, tempDir, type CliRun } from './index.js';

export interface ScenarioHarnessOptions {
  /** The project to copy (a directory in a git work tree or a plain one). */
  project: string;
  /** Environment for every build (orchestrate and clean). */
  env?: Record<string, string>;
  /** Builds a tree from clean, the way a user would without orchestrate. */
  cleanBuild: (dir: string, env: Record<string, string>) => Promise<void>;
  /** Resets the unit log before a build. */
  resetUnits: () => Promise<void>;
  /** The units compiled since the last reset. */
  units: () => Promise<string[]>;
}

export interface ScenarioResult {
  /** The `orchestrate build` run in copy B. */
  run: CliRun;
  /** Units compiled by that run. */
  units: string[];
  /** Copy B (orchestrate) and copy C (clean). */
  b: string;
  c: string;
}

export interface Scenario {
  /** Applies the change to a fresh copy. */
  change?: (dir: string) => Promise<void>;
  /** Extra environment for this scenario's builds (orchestrate and clean). */
  env?: Record<string, string>;
  /** Extra orchestrate arguments. */
  args?: string[];
  /** Build the clean copy C too (default true). */
  clean?: boolean;
  /**
   * Save a checkpoint after the build (default false: scenarios stay
   * independent, each restoring from the checkpoints saved before it).
   */
  save?: boolean;
}

/** Creates a harness; call `prepare()` once, then `run()` per scenario. */
export function scenarioHarness(options: ScenarioHarnessOptions) {
  const name = basename(options.project);
  let root = '';
  let store = '';
  let counter = 0;
  const env = (extra?: Record<string, string>): Record<string, string> => ({ ...options.env, ...extra });

  const freshCopy = async (label: string, change?: (dir: string) => Promise<void>): Promise<string> => {
    const dir = join(root, `${String(counter++).padStart(2, '0')}-${label}`, name);
    await mkdir(dir, { recursive: true });
    await copyProject(options.project, dir);
    if (change) await change(dir);
    return dir;
  };

  return {
    get store(): string {
      return store;
    },
    get root(): string {
      return root;
    },
    freshCopy,
    /** Copy A: the first full build, which saves the checkpoint. */
    async prepare(change?: (dir: string) => Promise<void>, extraEnv?: Record<string, string>): Promise<{ run: CliRun; dir: string }> {
      root = await tempDir(`orchestrate-${name}-`);
      store = join(root, 'store');
      const dir = await freshCopy('A', change);
      await options.resetUnits();
      const run = await runOrchestrate(['build'], { cwd: dir, store, env: env(extraEnv) });
      return { run, dir };
    },
    /** Runs `orchestrate build` in a fresh copy with the change, and a clean build of the same change. */
    async run(label: string, scenario: Scenario = {}): Promise<ScenarioResult> {
      const b = await freshCopy(`${label}-B`, scenario.change);
      await options.resetUnits();
      const args = ['build', ...(scenario.save ? [] : ['--no-save']), ...(scenario.args ?? [])];
      const run = await runOrchestrate(args, { cwd: b, store, env: env(scenario.env) });
      const units = await options.units();
      let c = '';
      if (scenario.clean !== false) {
        c = await freshCopy(`${label}-C`, scenario.change);
        await options.cleanBuild(c, env(scenario.env));
      }
      return { run, units, b, c };
    },
    /** Differences between B and C, ignoring paths `ignore` accepts. */
    diff(result: ScenarioResult, ignore: (path: string) => boolean = () => false): Promise<string[]> {
      return diffTrees(result.b, result.c, (p) => !ignore(p));
    },
  };
}

/** Runs a program and returns its stdout, for comparing behaviour. */
export async function programOutput(file: string, cwd: string, args: string[] = []): Promise<string> {
  // A random edit can make a program print without end: keep 100 MB (execa's default), as a clean build's copy would.
  const result = await runProcess(file, args, { cwd, maxBuffer: 100_000_000 });
  return `${result.exitCode}\n${result.stdout}`;
}
