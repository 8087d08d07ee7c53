/**
 * A scratch copy of the user's project, for commands that must build or
 * restore without touching the user's tree or the store (`verify`,
 * `explain`): the user's sources (less known build outputs) and config are
 * copied into a temporary directory, and orchestrators run there against a
 * read-only view of the store that records nothing in its tree ledger.
 *
 *   <tmp>/orchestrate-<purpose>-XXXX/sources/<project>   the sources as scanned (tracked and untracked-not-ignored, or a walk), and the config
 *   <tmp>/orchestrate-<purpose>-XXXX/tree/<project>      where a run happens: a fresh copy of sources/ each time
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { relativeInside } from '../checkpoint/paths.js';
import { readTreeLedger } from '../checkpoint/tree-ledger.js';
import type { ResolvedConfig, StoreOverrides } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { BuildReport } from '../hooks.js';
import type { Logger } from '../logger.js';
import { Orchestrator, type RunOptions } from '../orchestrator.js';
import { loadProject, type LoadedProject } from '../setup.js';
import { scanSources } from '../sources/scan.js';
import { openStore } from '../store/open-store.js';
import { ReadOnlyStore } from '../store/read-only-store.js';
import type { CheckpointStore } from '../store/store.js';

/** What a command that works in a scratch copy (`verify`, `explain`) is given. */
export interface ScratchCommandOptions {
  /** Where to look for the config (upwards). */
  cwd: string;
  configFile?: string | undefined;
  /** Store locations from the command line. */
  stores?: StoreOverrides | undefined;
  /** `--name` from the command line. */
  nameOverride?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Leave the scratch directory for inspection instead of removing it. */
  keepScratch?: boolean;
}

/** Where and how to open the scratch copy. */
export interface ScratchOptions {
  /** Where to look for the config (upwards). */
  cwd: string;
  configFile?: string | undefined;
  /** Store locations from the command line. */
  stores?: StoreOverrides | undefined;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** `--name` from the command line: the project's identity, over the config's `name`. */
  nameOverride?: string | undefined;
  /** The command that makes the copy, for messages and the directory's name (`verify`, `explain`). */
  purpose: string;
}

/** A scratch copy of the project; {@link ScratchProject.dispose} removes it. */
export interface ScratchProject {
  /** The user's config, resolved in the user's tree. */
  readonly config: ResolvedConfig;
  /** The scratch directory. */
  readonly dir: string;
  /** The read-only view of the store every run here uses. */
  readonly store: CheckpointStore;
  /** The source and build directories relative to the project directory (`.` for the project directory itself). */
  readonly layout: { readonly sourceDir: string; readonly buildDir: string };
  /** The tree runs happen in: `<scratch>/tree/<project>`. */
  readonly tree: string;
  /**
   * Copies the pristine sources to {@link tree} (which must not exist) and runs an orchestrator there
   * with `options` (never saving, never recording the tree); `side` names its logger.
   */
  runAt(side: string, options: Omit<RunOptions, 'recordTree' | 'noSave'>): Promise<BuildReport>;
  /** Removes the scratch directory (unless `keep`, then logs where it is). */
  dispose(keep?: boolean): Promise<void>;
}

/** The copy's layout: every directory of the project at the same path relative to the project directory. */
function relativeDirs(config: ResolvedConfig, purpose: string): { sourceDir: string; buildDir: string } {
  const sourceDir = relativeInside(config.projectDir, config.sourceDir);
  const buildDir = relativeInside(config.projectDir, config.buildDir);
  for (const [name, dir, rel] of [
    ['source', config.sourceDir, sourceDir],
    ['build', config.buildDir, buildDir],
  ] as const) {
    if (rel === undefined) {
      throw new UsageError(
        `${purpose} copies the project directory '${config.projectDir}', but the ${name} directory '${dir}' lies outside it`,
        {
          hint: `set '${name}Dir' inside the project directory to ${purpose} this project`,
        },
      );
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
async function copySources(
  config: ResolvedConfig,
  project: LoadedProject,
  store: CheckpointStore,
  to: string,
  logger: Logger,
): Promise<void> {
  const scan = await scanSources({
    sourceDir: config.sourceDir,
    buildDir: config.buildDir,
    include: config.include,
    exclude: config.exclude,
  });
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

/** Resolves the user's config, copies the project into a new scratch directory and returns what runs there need. */
export async function openScratch(options: ScratchOptions): Promise<ScratchProject> {
  const logger = options.logger;
  const project = await loadProject({ cwd: options.cwd, configFile: options.configFile });
  const user = new Orchestrator({
    draft: project.draft,
    plugins: project.plugins,
    projectDir: project.dir,
    configFile: project.configFile,
    logger: logger.child(options.purpose),
    env: options.env,
    stores: options.stores,
    nameOverride: options.nameOverride,
  });
  const config = await user.resolveConfig();
  const layout = relativeDirs(config, options.purpose);
  // In place: nothing a read-only layer serves is copied into the store either.
  const store = new ReadOnlyStore(await openStore({ ...config, storeFromInPlace: true }), `${options.purpose} never writes the store`);

  const dir = await mkdtemp(join(tmpdir(), `orchestrate-${options.purpose}-`));
  const name = basename(config.projectDir) || 'project';
  const pristine = join(dir, 'sources', name);
  const tree = join(dir, 'tree', name);
  const dispose = async (keep = false): Promise<void> => {
    if (keep) logger.info(`scratch directory kept: ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  };
  try {
    await copySources(config, project, store, pristine, logger);
  } catch (error) {
    await dispose();
    throw error;
  }
  // The project as the user's config resolves it, at the copy's path: same identity, store and layout.
  const draft = { ...project.draft, name: config.project, sourceDir: layout.sourceDir, buildDir: layout.buildDir, include: undefined };
  const configRel = relativeInside(config.projectDir, project.configFile);
  return {
    config,
    dir,
    store,
    layout,
    tree,
    async runAt(side, runOptions) {
      await mkdir(dirname(tree), { recursive: true });
      await cp(pristine, tree, { recursive: true, verbatimSymlinks: true, preserveTimestamps: false });
      const orchestrator = new Orchestrator({
        draft,
        plugins: project.plugins,
        projectDir: tree,
        configFile: configRel === undefined ? project.configFile : join(tree, configRel),
        logger: logger.child(`${options.purpose}:${side}`),
        env: options.env,
        store,
      });
      return orchestrator.run({ ...runOptions, noSave: true, recordTree: false });
    },
    dispose,
  };
}
