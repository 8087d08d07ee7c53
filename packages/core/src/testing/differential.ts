/**
 * The randomized differential driver shared by the plugins' tests: a working
 * copy of a project takes seeded random edits step after step; each step runs
 * `orchestrate build` in it (restoring the latest rolling checkpoint, saving
 * the step's), then builds the same sources from clean at the same absolute
 * path (the working copy moved aside meanwhile), and compares the outputs
 * byte for byte and the programs' output. A failure names the seed, the step
 * and every edit so far, with the command that replays it.
 *
 * ```
 * <tmp>/orchestrate-fuzz-<name>-XXXX/
 *   store/                 the checkpoints
 *   w0/<name>/             the working copy (w1/, w2/ … after each `move`)
 *   w0/<name>.clean/       the last step's clean build, kept to inspect
 * ```
 */
import { chmod, cp, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { copyProject, digestOf, runOrchestrate, tempDir, type CliRun } from './index.js';
import { mulberry32, type Rng } from './random.js';
import { applyRandomEdits, type EditKind, type EditRecord, type RandomEditOptions } from './random-edits.js';
import { programOutput } from './scenario.js';

/** The edit callbacks for a tree at `root` (everything of {@link RandomEditOptions} but the driver's own). */
export type DifferentialEdits = Omit<RandomEditOptions, 'root' | 'rng' | 'count' | 'kinds' | 'move'>;

/** A program of the project to run after each build; its exit code and stdout must match the clean build's. */
export interface DifferentialProgram {
  /** Relative to the tree. */
  path: string;
  args?: string[];
}

export interface DifferentialOptions {
  /** The project to start from (copied; never edited). */
  project: string;
  /** The seed of every random choice: the same seed replays the same run. */
  seed: number;
  /** Edited steps after the first full build. */
  steps: number;
  /** The kinds to draw from (repeat a kind to make it likelier). */
  kinds: readonly EditKind[];
  /** At most this many edits per step (at least one). @default 3 */
  maxEditsPerStep?: number;
  /** The edit callbacks for a tree at `root`. */
  edits: (root: string) => DifferentialEdits;
  /** Whether a relative path of the tree is a source (copied by `move` and for the clean build), not build state. */
  isSource: (path: string) => boolean;
  /** Builds the tree at `dir` from clean as a user would; returns whether the build succeeded. */
  cleanBuild: (dir: string, env: Record<string, string>) => Promise<boolean>;
  /** The outputs to compare, relative to the tree (both builds must make the same set). */
  outputs: (dir: string) => Promise<string[]>;
  /**
   * Outputs only the checkpoint build may have: what a warm build keeps after
   * its source went away (an object of a renamed source), as any warm tree
   * does. @default none
   */
  mayOutlive?: (path: string) => boolean;
  /** Programs to run in both trees after a successful build. */
  programs?: DifferentialProgram[];
  /**
   * Environment of every build, orchestrate's and the clean one; or a
   * function of the absolute paths of every working copy the run may use
   * (one per `move`, the first one first), for flags that must name them
   * all from the start, such as rustc's `--remap-path-prefix`.
   */
  env?: Record<string, string> | ((trees: readonly string[]) => Record<string, string>);
  /**
   * Edit kinds after which orchestrate may build in full (a plugin that
   * refuses a checkpoint when a build file changed); after any other step the
   * report's mode must be `incremental` or `partial`. @default []
   */
  fullBuildAfter?: readonly EditKind[];
  /** The command printed to replay a failure (the seed is prepended as `ORCHESTRATE_FUZZ_SEED=…`). @default 'pnpm test:fuzz' */
  replay?: string;
  /** Called after each step, for progress (`ORCHESTRATE_FUZZ_VERBOSE=1` prints each step too). */
  onStep?: (step: DifferentialStep) => void;
}

/** What one step did and found. */
export interface DifferentialStep {
  step: number;
  /** The working copy the step built in. */
  dir: string;
  edits: EditRecord[];
  /** orchestrate's report mode (`full`, `incremental`, `partial`), `undefined` when the build failed. */
  mode: string | undefined;
  /** Whether both builds succeeded (a step whose edits break the build must break both). */
  built: boolean;
}

/** A step whose checkpoint build differs from the clean build; the message says how to replay it. */
export class DifferentialError extends Error {
  override readonly name = 'DifferentialError';
  constructor(
    message: string,
    readonly seed: number,
    readonly step: number,
    readonly history: readonly DifferentialStep[],
  ) {
    super(message);
  }
}

/** Copies the sources of a tree to `to` as a fresh clone gives them: new mtimes, links as links, modes kept. */
async function copySources(from: string, to: string, isSource: (path: string) => boolean): Promise<void> {
  await mkdir(to, { recursive: true });
  const visit = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(from, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (!isSource(path)) continue;
      if (entry.isDirectory()) {
        await mkdir(join(to, path), { recursive: true });
        await visit(path);
      } else {
        await cp(join(from, path), join(to, path), { verbatimSymlinks: true, preserveTimestamps: false });
        if (entry.isFile()) await chmod(join(to, path), (await lstat(join(from, path))).mode & 0o7777);
      }
    }
  };
  await visit('');
}

interface Observed {
  ok: boolean;
  outputs: Map<string, string>;
  /** Each program's exit code and stdout; `undefined` when two runs disagreed (an edit made it read uninitialized memory). */
  programs: (string | undefined)[];
}

async function observe(dir: string, ok: boolean, options: DifferentialOptions): Promise<Observed> {
  const outputs = new Map<string, string>();
  const programs: (string | undefined)[] = [];
  if (ok) {
    for (const path of (await options.outputs(dir)).sort()) outputs.set(path, await digestOf(join(dir, path)));
    for (const program of options.programs ?? []) {
      const run = (): Promise<string> => programOutput(join(dir, program.path), dir, program.args ?? []);
      const first = await run();
      programs.push(first === (await run()) ? first : undefined);
    }
  }
  return { ok, outputs, programs };
}

function differences(checkpoint: Observed, clean: Observed, options: DifferentialOptions): string[] {
  const found: string[] = [];
  if (checkpoint.ok !== clean.ok) {
    found.push(
      checkpoint.ok ? 'the checkpoint build succeeded, the clean build failed' : 'the checkpoint build failed, the clean build succeeded',
    );
    return found;
  }
  for (const [path, digest] of checkpoint.outputs) {
    const other = clean.outputs.get(path);
    if (other === undefined) {
      if (!options.mayOutlive?.(path)) found.push(`only the checkpoint build made ${path}`);
    } else if (other !== digest) found.push(`differs: ${path}`);
  }
  for (const path of clean.outputs.keys()) if (!checkpoint.outputs.has(path)) found.push(`only the clean build made ${path}`);
  (options.programs ?? []).forEach((program, i) => {
    const [b, c] = [checkpoint.programs[i], clean.programs[i]];
    // A program whose output differs from run to run says nothing about the build; its bytes are still compared.
    if (b !== undefined && c !== undefined && b !== c) {
      found.push(
        `${[program.path, ...(program.args ?? [])].join(' ')} prints ${JSON.stringify(checkpoint.programs[i])}, clean ${JSON.stringify(clean.programs[i])}`,
      );
    }
  });
  return found;
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '');

const describeEdit = (edit: EditRecord): string => `${edit.kind} ${edit.path}${edit.detail === undefined ? '' : ` → ${edit.detail}`}`;

/**
 * The edit callbacks of whatever tree `current()` names when they are
 * called: a `move` mid-step changes the tree, and the edits after it apply to
 * the new one.
 */
function followTree(edits: (root: string) => DifferentialEdits, current: () => string): DifferentialEdits {
  const present = edits(current());
  const followed: Record<string, unknown> = {};
  for (const key of Object.keys(present) as (keyof DifferentialEdits)[]) {
    if (present[key] === undefined) continue;
    followed[key] = (...args: unknown[]) => (edits(current())[key] as (...a: unknown[]) => unknown)(...args);
  }
  return followed as unknown as DifferentialEdits;
}

/**
 * Runs one seeded differential run: a first full build, then `steps` steps
 * of random edits, each built by orchestrate from the latest rolling
 * checkpoint and from clean at the same path, outputs compared byte for byte.
 * Resolves with the steps; rejects with a {@link DifferentialError} naming the
 * seed, the step and the edits so far.
 */
export async function runDifferential(options: DifferentialOptions): Promise<DifferentialStep[]> {
  const name = basename(options.project);
  const root = await tempDir(`orchestrate-fuzz-${name}-`);
  const store = join(root, 'store');
  const rng: Rng = mulberry32(options.seed);
  const history: DifferentialStep[] = [];
  // <root>/w<k>/<name>: the tree after k moves, at most one per edit.
  const tree = (k: number): string => join(root, `w${k}`, name);
  const trees = Array.from({ length: options.steps * (options.maxEditsPerStep ?? 3) + 1 }, (_, k) => tree(k));
  const env = typeof options.env === 'function' ? options.env(trees) : (options.env ?? {});
  let moves = 0;
  let dir = tree(0);
  await copyProject(options.project, dir);

  const fail = (step: number, what: string, run?: CliRun): never => {
    const lines = [
      `differential run of ${name}, seed ${options.seed}: step ${step}: ${what}`,
      ...history.map(
        (s) =>
          `  step ${s.step} (${s.mode ?? 'failed'}) in ${s.dir}: ${s.edits.map(describeEdit).join('; ') || (s.step === 0 ? 'first build' : 'no edit')}`,
      ),
      `  trees and store: ${root}`,
      `  replay: ORCHESTRATE_FUZZ_SEED=${options.seed} ORCHESTRATE_FUZZ_STEPS=${options.steps} ${options.replay ?? 'pnpm test:fuzz'}`,
      ...(run && run.stderr.trim() !== ''
        ? [
            '  orchestrate stderr (tail):',
            ...stripAnsi(run.stderr)
              .trim()
              .split('\n')
              .slice(-30)
              .map((l) => `    ${l}`),
          ]
        : []),
    ];
    throw new DifferentialError(lines.join('\n'), options.seed, step, history);
  };

  for (let step = 0; step <= options.steps; step++) {
    let edits: EditRecord[] = [];
    if (step > 0) {
      const move = async (): Promise<string> => {
        const to = tree(++moves);
        await copySources(dir, to, options.isSource);
        await rm(dirname(dir), { recursive: true, force: true });
        dir = to;
        return to;
      };
      edits = await applyRandomEdits({
        ...followTree(options.edits, () => dir),
        root: dir,
        rng,
        count: 1 + rng.int(options.maxEditsPerStep ?? 3),
        kinds: options.kinds,
        move,
      });
    }
    const run = await runOrchestrate(['build'], { cwd: dir, store, env });
    const mode = run.exitCode === 0 ? (run.report?.['mode'] as string | undefined) : undefined;
    const record: DifferentialStep = { step, dir, edits, mode, built: false };
    history.push(record);
    const checkpoint = await observe(dir, run.exitCode === 0, options);

    // The clean build runs where the working copy is, which waits beside it.
    const aside = `${dir}.orchestrate`;
    const cleanDir = `${dir}.clean`;
    await rm(cleanDir, { recursive: true, force: true });
    await rename(dir, aside);
    let clean: Observed;
    try {
      await copySources(aside, dir, options.isSource);
      clean = await observe(dir, await options.cleanBuild(dir, env), options);
    } finally {
      await rename(dir, cleanDir).catch(() => undefined);
      await rename(aside, dir);
    }
    record.built = checkpoint.ok && clean.ok;

    const found = differences(checkpoint, clean, options);
    if (found.length > 0) fail(step, `the build from the checkpoint differs from the clean build:\n    ${found.join('\n    ')}`, run);
    if (step > 0 && run.exitCode === 0 && record.mode === 'full' && !edits.some((e) => options.fullBuildAfter?.includes(e.kind))) {
      fail(step, `orchestrate built in full (reason: ${JSON.stringify(run.report?.['reason'])})`, run);
    }
    options.onStep?.(record);
    if (process.env['ORCHESTRATE_FUZZ_VERBOSE']) {
      process.stderr.write(
        `[fuzz ${name} seed ${options.seed}] step ${step} ${record.mode ?? 'failed'}${record.built ? '' : ' (both failed)'}: ${edits.map(describeEdit).join('; ') || (step === 0 ? 'first build' : 'no edit')}\n`,
      );
    }
  }
  await rm(root, { recursive: true, force: true });
  return history;
}

/** The seeds and steps of a differential test file, from the environment. */
export interface FuzzPlan {
  /** The seeds to run, one test each. */
  seeds: number[];
  /** Steps per seed. */
  steps: number;
}

/**
 * The seeds a differential test runs: `ORCHESTRATE_FUZZ_SEED` replays one;
 * with `ORCHESTRATE_FUZZ` set (`pnpm test:fuzz`), `ORCHESTRATE_FUZZ_RUNS`
 * (default 5) seeds drawn at random; otherwise the fixed `ci` seeds.
 * `ORCHESTRATE_FUZZ_STEPS` overrides the steps (default `ciSteps`, or twice
 * that when fuzzing).
 */
export function fuzzPlan(ci: readonly number[], ciSteps: number, env: NodeJS.ProcessEnv = process.env): FuzzPlan {
  const number = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < 0)
      throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
    return parsed;
  };
  const fuzzing = env['ORCHESTRATE_FUZZ'] !== undefined && env['ORCHESTRATE_FUZZ'] !== '' && env['ORCHESTRATE_FUZZ'] !== '0';
  const steps = number('ORCHESTRATE_FUZZ_STEPS') ?? (fuzzing ? ciSteps * 2 : ciSteps);
  const seed = number('ORCHESTRATE_FUZZ_SEED');
  const runs = number('ORCHESTRATE_FUZZ_RUNS') ?? 5;
  if (seed !== undefined) return { seeds: [seed], steps };
  if (!fuzzing) return { seeds: [...ci], steps };
  const seeds = Array.from({ length: runs }, () => Math.floor(Math.random() * 2 ** 31));
  return { seeds, steps };
}
