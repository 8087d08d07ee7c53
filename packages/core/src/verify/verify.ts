/**
 * `orchestrate verify`: builds the current sources from the checkpoint, as
 * `build` would, and from clean, and compares the outputs byte for byte.
 *
 * Both builds run on a copy of the project's sources, one after the other at
 * the same absolute path (an output that embeds its directory would differ
 * otherwise), and neither touches the user's tree or the store:
 *
 *   <tmp>/orchestrate-verify-XXXX/sources/<project>   the sources as scanned (tracked and untracked-not-ignored, or a walk), and the config
 *   <tmp>/orchestrate-verify-XXXX/tree/<project>      where each build runs: first from the checkpoint, then from clean
 *   <tmp>/orchestrate-verify-XXXX/warm/<project>      the checkpoint build's tree, moved aside for the comparison
 *
 * The checkpoint build reads the store through a read-only view, saves
 * nothing and records nothing in the store's tree ledger.
 */
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { relativeInside } from '../checkpoint/paths.js';
import { readTreeLedger } from '../checkpoint/tree-ledger.js';
import type { CheckpointManifest } from '../checkpoint/manifest.js';
import type { ResolvedConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { BuildReport } from '../hooks.js';
import type { Logger } from '../logger.js';
import { Orchestrator } from '../orchestrator.js';
import { loadProject, type LoadedProject } from '../setup.js';
import { scanSources } from '../sources/scan.js';
import { openStore } from '../store/open-store.js';
import type { StoreOverrides } from '../config/schema.js';
import { ReadOnlyStore } from '../store/read-only-store.js';
import type { CheckpointStore } from '../store/store.js';
import { compareOutputs, type Comparison } from './compare.js';

export interface VerifyOptions {
  /** Where to look for the config (upwards). */
  cwd: string;
  configFile?: string | undefined;
  /** Store locations from the command line. */
  stores?: StoreOverrides | undefined;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Leave the scratch directory for inspection instead of removing it. */
  keepScratch?: boolean;
}

export interface VerifyResult extends Comparison {
  /** The checkpoint the checkpoint build restored; null when it built in full (then `reason` says why). */
  readonly restored: string | null;
  readonly reason: string | null;
  /** The scratch directory, when kept. */
  readonly scratch: string | null;
  readonly durationMs: number;
}

/** The copy's layout: every directory of the project at the same path relative to the project directory. */
function relativeDirs(config: ResolvedConfig): { sourceDir: string; buildDir: string } {
  const sourceDir = relativeInside(config.projectDir, config.sourceDir);
  const buildDir = relativeInside(config.projectDir, config.buildDir);
  for (const [name, dir, rel] of [
    ['source', config.sourceDir, sourceDir],
    ['build', config.buildDir, buildDir],
  ] as const) {
    if (rel === undefined) {
      throw new UsageError(`verify copies the project directory '${config.projectDir}', but the ${name} directory '${dir}' lies outside it`, {
        hint: `set '${name}Dir' inside the project directory to verify this project`,
      });
    }
  }
  return { sourceDir: sourceDir || '.', buildDir: buildDir || '.' };
}

/** Source paths (relative to the source directory) known to be build output of the user's tree: its ledger and the project's checkpoints' state. */
async function knownOutputs(config: ResolvedConfig, store: CheckpointStore): Promise<Set<string>> {
  const statePaths = new Set(readTreeLedger(config.store, config.buildDir));
  for (const item of await store.loadCheckpoints(config.project)) {
    if (item.error === undefined) for (const path of Object.keys(item.manifest.state)) statePaths.add(path);
  }
  const out = new Set<string>();
  for (const path of statePaths) {
    const source = relativeInside(config.sourceDir, join(config.buildDir, path));
    if (source !== undefined && source !== '') out.add(source);
  }
  return out;
}

/** Copies the user's sources (less known build outputs) and the config into `to`, at their paths relative to the project directory. */
async function copySources(config: ResolvedConfig, project: LoadedProject, store: CheckpointStore, to: string, logger: Logger): Promise<void> {
  const scan = await scanSources({ sourceDir: config.sourceDir, buildDir: config.buildDir, include: config.include, exclude: config.exclude });
  const outputs = await knownOutputs(config, store);
  const sourceRel = relativeInside(config.projectDir, config.sourceDir) ?? '';
  let copied = 0;
  for (const path of [...scan.sources.keys()].sort()) {
    if (outputs.has(path)) continue;
    const dest = join(to, sourceRel, path);
    await mkdir(dirname(dest), { recursive: true });
    await cp(join(config.sourceDir, path), dest, { verbatimSymlinks: true, preserveTimestamps: false });
    copied++;
  }
  const configRel = relativeInside(config.projectDir, project.configFile);
  if (configRel !== undefined) {
    await mkdir(dirname(join(to, configRel)), { recursive: true });
    await cp(project.configFile, join(to, configRel), { force: true });
  }
  logger.debug(`copied ${copied} sources (${scan.method}); ${outputs.size} known build outputs left out`);
}

/** Runs `verify`; see the module's comment. */
export async function verifyProject(options: VerifyOptions): Promise<VerifyResult> {
  const started = performance.now();
  const logger = options.logger;
  const project = await loadProject({ cwd: options.cwd, configFile: options.configFile });
  const user = new Orchestrator({
    draft: project.draft,
    plugins: project.plugins,
    projectDir: project.dir,
    configFile: project.configFile,
    logger: logger.child('verify'),
    env: options.env,
    stores: options.stores,
  });
  const config = await user.resolveConfig();
  const layout = relativeDirs(config);
  // In place: nothing a read-only layer serves is copied into the store either.
  const store = new ReadOnlyStore(await openStore({ ...config, storeFromInPlace: true }), 'verify never writes the store');

  const scratch = await mkdtemp(join(tmpdir(), 'orchestrate-verify-'));
  const name = basename(config.projectDir) || 'project';
  const pristine = join(scratch, 'sources', name);
  const tree = join(scratch, 'tree', name);
  const warmTree = join(scratch, 'warm', name);
  try {
    await copySources(config, project, store, pristine, logger);
    // The project as the user's config resolves it, at the copy's path: same identity, store and layout.
    const draft = { ...project.draft, name: config.project, sourceDir: layout.sourceDir, buildDir: layout.buildDir, include: undefined };
    const configRel = relativeInside(config.projectDir, project.configFile);
    const runAt = async (side: 'checkpoint' | 'clean'): Promise<BuildReport> => {
      await mkdir(dirname(tree), { recursive: true });
      await cp(pristine, tree, { recursive: true, verbatimSymlinks: true, preserveTimestamps: false });
      const orchestrator = new Orchestrator({
        draft,
        plugins: project.plugins,
        projectDir: tree,
        configFile: configRel === undefined ? project.configFile : join(tree, configRel),
        logger: logger.child(`verify:${side}`),
        env: options.env,
        store,
      });
      return orchestrator.run({
        command: side === 'checkpoint' ? 'build' : 'prepare',
        noSave: true,
        recordTree: false,
        listOutputs: true,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    };

    logger.info('building from the checkpoint in a scratch copy …');
    const warm = await runAt('checkpoint');
    if (warm.restored === null) logger.warn(`no checkpoint to verify, the first build was full: ${warm.reason ?? 'unknown reason'}`);
    await mkdir(dirname(warmTree), { recursive: true });
    await rename(tree, warmTree);
    logger.info('building from clean at the same path …');
    const clean = await runAt('clean');

    let checkpoint: CheckpointManifest | undefined;
    if (warm.restored !== null) {
      const loaded = await store.loadCheckpoints(config.project);
      const found = loaded.find((item) => item.error === undefined && item.ref.id === warm.restored);
      if (found && found.error === undefined) checkpoint = found.manifest;
    }
    const comparison = await compareOutputs({
      warmBuildDir: join(warmTree, layout.buildDir),
      cleanBuildDir: join(tree, layout.buildDir),
      warmOutputs: warm.outputs ?? [],
      cleanOutputs: clean.outputs ?? [],
      checkpoint,
    });
    if (comparison.compared === 0 && comparison.missing.length === 0) {
      logger.warn("no outputs to compare: the plugins selected none; name them with the config's 'outputs' globs");
    }
    return {
      ...comparison,
      restored: warm.restored,
      reason: warm.reason,
      scratch: options.keepScratch ? scratch : null,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    if (options.keepScratch) logger.info(`scratch directory kept: ${scratch}`);
    else await rm(scratch, { recursive: true, force: true });
  }
}
