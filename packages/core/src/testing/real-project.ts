/**
 * Real projects as users have them, for plugin integration tests: a Debian
 * source package in a pristine git repository (with a `.gitignore` for what
 * its build writes), cloned fresh wherever a build needs it, prepared by the
 * user's own steps (autoreconf, configure), and built three ways per change:
 *
 * - `orchestrate build` in a fresh clone at another path than the one the
 *   checkpoint was made at;
 * - a clean build of the same change, in a fresh clone at that same path
 *   (the outputs must equal it byte for byte);
 * - the warm tree: a copy (`cp -a`, times kept) of the tree the checkpoint
 *   was made from, at its own path, with the same change, built by the
 *   native tool (the units orchestrate compiles must be the ones it does).
 *
 * Every compile goes through one compiler wrapper ({@link createCompilerLog})
 * that logs the absolute path of each source, so the three builds' units are
 * compared as paths relative to their tree.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { runProcess } from '../process.js';
import { createCompilerLog, runOrchestrate, tempDir, type CliReport, type CliRun, type CompilerLog } from './index.js';

/** Where a Debian source package comes from and how it becomes a repository. */
export interface RealProjectOptions {
  /** Debian's source package (`scripts/debian-source.sh <package>`). */
  package: string;
  /** The orchestrate checkout: `scripts/debian-source.sh` runs from it, into `bench/.work/src`. */
  repoRoot: string;
  /** Lines appended to the repository's `.gitignore` (the project's own, if it ships one, stays). */
  ignore?: readonly string[];
  /** Paths removed before the first commit. @default ["debian", ".pc"] (the packaging and quilt's state) */
  remove?: readonly string[];
  /** The real compiler behind the wrapper. @default "gcc" */
  compiler?: string;
  /** Which logged sources are units of the project. @default all but configure's `conftest.c` */
  isUnit?: (path: string) => boolean;
}

/** A shell command run in a tree (`bash -c`), or a function of the tree's directory giving one. */
export type TreeCommand = string | ((dir: string) => string);

/** How one checkpoint of a real project is made and built. */
export interface RealCheckpointOptions {
  /** Names the directories of this checkpoint's trees and its store. */
  label: string;
  /** The orchestrate config written into every clone (`orchestrate.config.json`). */
  config: unknown;
  /** What the user runs in a fresh clone before any build (`autoreconf -fi && ./configure`). */
  steps?: TreeCommand;
  /** The native build of a fresh clone after `steps`, as a user builds without orchestrate. */
  cleanBuild: TreeCommand;
  /** The native build of the warm tree after a change. */
  warmBuild: TreeCommand;
  /** The outputs a user ships, relative to the tree: compared byte for byte. */
  outputs: readonly string[];
}

/** One change, built three ways. */
export interface RealScenario {
  /** The change, applied to each of the three trees. */
  change?: (dir: string) => Promise<void>;
  /** The change as the warm tree gets it, when it differs (say, an edit dated in the past, which make would not see). @default change */
  warmChange?: (dir: string) => Promise<void>;
  /** Replaces the checkpoint's `steps` in the fresh clones (say, configure with other flags). */
  steps?: TreeCommand;
  /** Run in the warm tree before its build (say, that configure with other flags). */
  warmSteps?: TreeCommand;
  /** Replaces the checkpoint's `cleanBuild` / `warmBuild` (say, other variables on make's command line). */
  cleanBuild?: TreeCommand;
  warmBuild?: TreeCommand;
  /** Replaces the config written into the clones. */
  config?: unknown;
  /**
   * Lays the sources out as a plain copy without git, every mtime 1 (as a
   * Nix builder unpacks them), for orchestrate and the clean build, instead of
   * a clone. @default false
   */
  plainCopy?: boolean;
  /**
   * Scenarios with the same key share one clean build (their sources are
   * equal, say an edit and the same edit with an old mtime). @default none
   */
  cleanKey?: string;
}

/** What a scenario's three builds did. */
export interface RealScenarioResult {
  run: CliRun;
  report: CliReport;
  /** Units orchestrate compiled, relative to its tree, sorted. */
  units: string[];
  /** Units the warm tree's native build compiled. */
  warmUnits: string[];
  /** Units the clean build compiled. */
  cleanUnits: string[];
  /** sha256 of each output: orchestrate's, the clean build's, the warm tree's. */
  outputs: Record<string, string>;
  cleanOutputs: Record<string, string>;
  warmOutputs: Record<string, string>;
  /** The tree orchestrate built (removed by the next scenario of the checkpoint). */
  dir: string;
}

/** A checkpoint made from a fresh clone, and scenarios built from it. */
export interface RealCheckpoint {
  /** The tree the checkpoint was made from, which is also where the warm tree is built. */
  readonly first: string;
  readonly store: string;
  /** The first build's run and units. */
  readonly prepared: { run: CliRun; units: string[] };
  /** Builds the change three ways: orchestrate at another path, clean there, warm. */
  scenario(scenario?: RealScenario): Promise<RealScenarioResult>;
}

/** A Debian source package as a pristine repository, with the tools to build it. */
export interface RealProject {
  readonly root: string;
  readonly pristine: string;
  /** The environment of every build: `CC` is the compiler wrapper. */
  readonly env: Record<string, string>;
  readonly compilerLog: CompilerLog;
  /** Runs `bash -c command` in `cwd` with the build environment; throws with its output when it fails. */
  sh(cwd: string, command: string): Promise<string>;
  /** A fresh clone at `dir` with `config` (when given) as its orchestrate config, then the user's `steps`. */
  clone(dir: string, options?: { config?: unknown; steps?: TreeCommand | undefined }): Promise<void>;
  /** The same as a plain copy of the committed tree without git, every mtime 1. */
  plainCopy(dir: string, options?: { config?: unknown; steps?: TreeCommand | undefined }): Promise<void>;
  /** Units compiled since the last reset, relative to `tree`. */
  units(tree: string): Promise<string[]>;
  /** `orchestrate build --verbose` in `dir`, with the unit log reset first. */
  orchestrate(dir: string, store: string, args?: readonly string[]): Promise<{ run: CliRun; units: string[] }>;
  /** sha256 of each of `outputs` below `dir`. */
  digests(dir: string, outputs: readonly string[]): Promise<Record<string, string>>;
  /** Makes a checkpoint at `<root>/<label>/first/<name>` and returns its scenario runner. */
  checkpoint(options: RealCheckpointOptions): Promise<RealCheckpoint>;
}

function commandFor(command: TreeCommand, dir: string): string {
  return typeof command === 'function' ? command(dir) : command;
}

/**
 * Fetches `options.package`'s Debian source (needs root and Debian's mirrors,
 * as CI has), commits it into a pristine repository and returns the project.
 */
export async function realProject(options: RealProjectOptions): Promise<RealProject> {
  const script = join(options.repoRoot, 'scripts/debian-source.sh');
  const fetched = await runProcess('bash', [script, join(options.repoRoot, 'bench/.work/src'), options.package]);
  if (fetched.exitCode !== 0) {
    throw new Error(`fetching '${options.package}' from Debian's sources failed (needs root and Debian's mirrors): ${fetched.stderr}`);
  }
  const source = fetched.stdout.trim().split('\n').pop() ?? '';
  const name = basename(source).replace(/-[0-9][^-]*$/, '');
  const root = await realpath(await tempDir(`orchestrate-${name}-`));
  const pristine = join(root, 'pristine');
  const compilerLog = await createCompilerLog(join(root, 'cc'), options.compiler ?? 'gcc', { absolute: true, linking: true });
  const env = { CC: compilerLog.path, ...compilerLog.env };
  const isUnit = options.isUnit ?? ((path: string) => basename(path) !== 'conftest.c');

  const sh = async (cwd: string, command: string): Promise<string> => {
    const result = await runProcess('bash', ['-c', command], { cwd, env: { ...process.env, ...env }, interleaved: true });
    if (result.exitCode !== 0)
      throw new Error(`'${command}' failed in ${cwd} (exit ${String(result.exitCode)}):\n${result.all.slice(-4000)}`);
    return result.stdout;
  };
  const git = (cwd: string, ...args: string[]) =>
    sh(cwd, ['git', '-c', 'user.email=t@t', '-c', 'user.name=t', ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' '));

  await sh(root, `cp -r '${source}' pristine`);
  for (const path of options.remove ?? ['debian', '.pc']) await rm(join(pristine, path), { recursive: true, force: true });
  if (options.ignore !== undefined) {
    const own = await readFile(join(pristine, '.gitignore'), 'utf8').catch(() => '');
    await writeFile(join(pristine, '.gitignore'), `${own}${own === '' || own.endsWith('\n') ? '' : '\n'}${options.ignore.join('\n')}\n`);
  }
  await git(pristine, 'init', '-q');
  await git(pristine, 'add', '-A');
  await git(pristine, 'commit', '-qm', name);

  const units = async (tree: string): Promise<string[]> => {
    const logged = await compilerLog.units();
    const inTree = logged.map((path) => relative(tree, resolve(path))).filter((path) => !path.startsWith('..') && isUnit(path));
    return [...new Set(inTree)].sort();
  };
  type LayOptions = { config?: unknown; steps?: TreeCommand | undefined };
  const lay = async (dir: string, how: 'clone' | 'plain', cloneOptions: LayOptions = {}): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    await sh(root, `mkdir -p '${dirname(dir)}'`);
    if (how === 'clone') await git(root, 'clone', '-q', pristine, dir);
    else await sh(root, `mkdir '${dir}' && git -C pristine archive HEAD | tar -x -C '${dir}' && find '${dir}' -exec touch -h -d @1 {} +`);
    if (cloneOptions.config !== undefined)
      await writeFile(join(dir, 'orchestrate.config.json'), `${JSON.stringify(cloneOptions.config)}\n`);
    if (cloneOptions.steps !== undefined) await sh(dir, commandFor(cloneOptions.steps, dir));
  };
  const clone = (dir: string, options?: LayOptions) => lay(dir, 'clone', options);
  const plainCopy = (dir: string, options?: LayOptions) => lay(dir, 'plain', options);
  const orchestrate = async (dir: string, store: string, args: readonly string[] = []) => {
    await compilerLog.reset();
    const run = await runOrchestrate(['build', '--verbose', ...args], { cwd: dir, store, env });
    if (run.exitCode !== 0) throw new Error(`orchestrate build failed in ${dir} (exit ${run.exitCode}):\n${run.stderr.slice(-4000)}`);
    return { run, units: await units(dir) };
  };
  const digests = async (dir: string, outputs: readonly string[]): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const path of outputs) {
      out[path] = createHash('sha256')
        .update(await readFile(join(dir, path)))
        .digest('hex');
    }
    return out;
  };

  const project: RealProject = {
    root,
    pristine,
    env,
    compilerLog,
    sh,
    clone,
    plainCopy,
    units,
    orchestrate,
    digests,
    async checkpoint(checkpointOptions) {
      const base = join(root, checkpointOptions.label);
      const store = join(base, 'store');
      const first = join(base, 'first', name);
      const snapshot = join(base, 'first.warm');
      await clone(first, { config: checkpointOptions.config, steps: checkpointOptions.steps });
      const prepared = await orchestrate(first, store);
      // The checkpointed tree as it is, times kept: each scenario's warm tree starts from it, at its path.
      await sh(base, `cp -a '${first}' '${snapshot}'`);
      const cleanBuilds = new Map<string, { units: string[]; outputs: Record<string, string> }>();

      const warm = async (scenario: RealScenario) => {
        await rm(first, { recursive: true, force: true });
        await sh(base, `cp -a '${snapshot}' '${first}'`);
        await (scenario.warmChange ?? scenario.change)?.(first);
        if (scenario.warmSteps !== undefined) await sh(first, commandFor(scenario.warmSteps, first));
        await compilerLog.reset();
        await sh(first, commandFor(scenario.warmBuild ?? checkpointOptions.warmBuild, first));
        return { units: await units(first), outputs: await digests(first, checkpointOptions.outputs) };
      };
      const fresh = async (dir: string, scenario: RealScenario) => {
        await (scenario.plainCopy === true ? plainCopy : clone)(dir, { config: scenario.config ?? checkpointOptions.config });
        await scenario.change?.(dir);
        const steps = scenario.steps ?? checkpointOptions.steps;
        if (steps !== undefined) await sh(dir, commandFor(steps, dir));
      };
      // A fresh clone at the scenarios' path after the user's steps, kept to start each clean build from: what
      // the steps write (configure's files) depends on the path and the steps, not on the scenarios' edits of
      // sources. A scenario with steps of its own clones afresh.
      const configured = join(base, 'other.configured');
      let configuredReady = false;
      const clean = async (dir: string, scenario: RealScenario) => {
        const known = scenario.cleanKey === undefined ? undefined : cleanBuilds.get(scenario.cleanKey);
        if (known) return known;
        if (scenario.steps === undefined && checkpointOptions.steps !== undefined && scenario.plainCopy !== true) {
          if (!configuredReady) {
            await clone(dir, { config: checkpointOptions.config, steps: checkpointOptions.steps });
            await rm(configured, { recursive: true, force: true });
            await sh(base, `cp -a '${dir}' '${configured}'`);
            configuredReady = true;
          }
          await rm(dir, { recursive: true, force: true });
          await sh(base, `cp -a '${configured}' '${dir}'`);
          if (scenario.config !== undefined) await writeFile(join(dir, 'orchestrate.config.json'), `${JSON.stringify(scenario.config)}\n`);
          await scenario.change?.(dir);
        } else {
          await fresh(dir, scenario);
        }
        await compilerLog.reset();
        await sh(dir, commandFor(scenario.cleanBuild ?? checkpointOptions.cleanBuild, dir));
        const result = { units: await units(dir), outputs: await digests(dir, checkpointOptions.outputs) };
        if (scenario.cleanKey !== undefined) cleanBuilds.set(scenario.cleanKey, result);
        return result;
      };

      return {
        first,
        store,
        prepared,
        async scenario(scenario = {}) {
          const warmResult = await warm(scenario);
          // Every scenario at one path, other than the checkpoint's: shared clean builds are at the same path.
          const dir = join(base, 'other', name);
          const cleanResult = await clean(dir, scenario);
          await fresh(dir, scenario);
          const built = await orchestrate(dir, store, ['--no-save']);
          return {
            run: built.run,
            report: built.run.report ?? {},
            units: built.units,
            warmUnits: warmResult.units,
            cleanUnits: cleanResult.units,
            outputs: await digests(dir, checkpointOptions.outputs),
            cleanOutputs: cleanResult.outputs,
            warmOutputs: warmResult.outputs,
            dir,
          };
        },
      };
    },
  };
  return project;
}

/**
 * The state files a build left out of its restore, with the reason, as its
 * `--verbose` log names them (the report counts them by reason).
 */
export function leftOutFiles(run: CliRun): { path: string; reason: string }[] {
  return [...run.stderr.matchAll(/^\[orchestrate\] not restoring '(.+?)': (.+)$/gm)].map((match) => ({
    path: match[1] ?? '',
    reason: match[2] ?? '',
  }));
}
