/**
 * From a directory to a ready orchestrator: find and validate the config,
 * load its plugins.
 */
import { resolve } from 'node:path';
import { tryLoadConfig } from './config/load-config.js';
import type { StoreOverrides } from './config/schema.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { Orchestrator } from './orchestrator.js';
import { loadPlugins } from './plugin-loader.js';
import { startGitListing, type GitListing } from './sources/git.js';
import type { ConfigDraft } from './config/schema.js';
import type { Plugin } from './plugin.js';

export interface CreateOrchestratorOptions {
  /** Where to look for the config (upwards). */
  cwd: string;
  /** An explicit config file. */
  configFile?: string | undefined;
  logger: Logger;
  /** Store locations from the command line. */
  stores?: StoreOverrides | undefined;
  /** `--name`: the project's identity, over the config's `name`. */
  nameOverride?: string | undefined;
  /** `--times`: `exact` or `flat`, over `ORCHESTRATE_TIMES` and the config's `times`. */
  timesOverride?: string | undefined;
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Start listing the sources with git as soon as the config is found, while
   * the plugins load (for a run that scans them: build, prepare, restore).
   */
  listSourcesEarly?: boolean;
}

/** A project's config as found, with its plugins loaded. */
export interface LoadedProject {
  /** The project directory: the config file's. */
  readonly dir: string;
  readonly configFile: string;
  /** The config less its plugins. */
  readonly draft: ConfigDraft;
  /** Plugin objects; each `apply` makes its own state, so one list serves several orchestrators. */
  readonly plugins: readonly Plugin[];
  /** A git listing of the source directory, when asked for (see {@link CreateOrchestratorOptions.listSourcesEarly}). */
  readonly gitListing: GitListing | undefined;
}

/** Finds the project's config (upwards from `cwd`) and loads its plugins. */
export async function loadProject(
  options: Pick<CreateOrchestratorOptions, 'cwd' | 'configFile' | 'listSourcesEarly'>,
): Promise<LoadedProject> {
  const cwd = resolve(options.cwd);
  const loaded = await tryLoadConfig(cwd, options.configFile && resolve(cwd, options.configFile));
  if (!loaded) {
    throw new ConfigError(`no orchestrate config found in '${cwd}' or its parents`, undefined, {
      hint: "run 'orchestrate init' to write one for the build system of this directory",
    });
  }
  const { plugins: entries, ...draft } = loaded.config;
  // The source directory as the config names it; a plugin may still move it, and then the listing is not used.
  const gitListing = options.listSourcesEarly ? startGitListing(resolve(loaded.dir, draft.sourceDir ?? '.')) : undefined;
  const plugins = await loadPlugins(entries ?? [], loaded.dir, loaded.file);
  if (plugins.length === 0) {
    throw new ConfigError('no plugins: add a build-system plugin, e.g. "plugins": ["@orchestrate/plugin-make"]', loaded.file);
  }
  return { dir: loaded.dir, configFile: loaded.file, draft, plugins, gitListing };
}

/** Finds the project's config, loads its plugins and creates the orchestrator. */
export async function createOrchestrator(options: CreateOrchestratorOptions): Promise<Orchestrator> {
  const project = await loadProject(options);
  return new Orchestrator({
    draft: project.draft,
    plugins: project.plugins,
    projectDir: project.dir,
    configFile: project.configFile,
    logger: options.logger,
    ...(options.env ? { env: options.env } : {}),
    stores: options.stores,
    nameOverride: options.nameOverride,
    timesOverride: options.timesOverride,
    gitListing: project.gitListing,
  });
}
