/**
 * The orchestrator owns the hooks, applies plugins and runs the lifecycle:
 *
 *   setup:    initialize → resolveConfig → configResolved → fingerprint
 *   restore:  scan sources → findCheckpoint → validateCheckpoint → changes
 *             → beforeRestore → (restoreFile per file, time replay) → afterRestore
 *   build:    configure → beforeBuild → build
 *   capture:  selectState → (captureFile per file) → afterCapture → save
 *   end:      done | failed, then shutdown
 *
 * It names no build system; plugins do all tool-specific work.
 */
import { performance } from 'node:perf_hooks';
import type { Hook } from 'tapable';
import { captureInputs, captureSources, captureState, compareInputs, type FileStamp } from './checkpoint/capture.js';
import { compareFingerprints, describeDifferences } from './checkpoint/fingerprint.js';
import { MANIFEST_SCHEMA_VERSION, type CheckpointManifest, type StateRecord } from './checkpoint/manifest.js';
import { relativeInside } from './checkpoint/paths.js';
import { placeholderPairs, replaceRoots, rootPairs, ROOTS_TRANSFORM, spellingsOf, type RootSpellings } from './checkpoint/roots.js';
import { notSourcesOf, selectCheckpoint, sourcesWithoutState } from './checkpoint/select.js';
import { CheckpointRefusedError, isCheckpointRefusal, restoreCheckpoint } from './checkpoint/restore.js';
import { replayedNs, setTimes, type TimePlan } from './checkpoint/times.js';
import { WriteRules } from './checkpoint/safety.js';
import { readTreeLedger, recordTreeOutputs } from './checkpoint/tree-ledger.js';
import { checkpointCreatedAt, flattenRecordedTimes } from './checkpoint/flat-times.js';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from './config/resolve-config.js';
import type { ConfigDraft, ResolvedConfig, StoreOverrides } from './config/schema.js';
import { RunContext, type BuildContext, type CheckpointChoice } from './context.js';
import { ConfigError, InterruptedError, isOrchestrateError, OrchestrateError, ExitCode, PluginError, UsageError } from './errors.js';
import {
  createHooks,
  Stage,
  type BuildExplanation,
  type BuildReport,
  type CheckpointCandidate,
  type CheckpointLookup,
  type FileTransformInfo,
  type Fingerprint,
  type OrchestratorHooks,
  type PluginHooks,
  type RestorePlan,
  type StateSelection,
  type StepResult,
} from './hooks.js';
import { withWarningsTo, type Logger } from './logger.js';
import type { Plugin, PluginApi } from './plugin.js';
import { changeCount, NO_CHANGES, type ChangeSet } from './sources/manifest.js';
import { scanSources } from './sources/scan.js';
import { VERSION } from './package-info.js';
import { openStore } from './store/open-store.js';
import type { RemoteLayer } from './store/remote-layer.js';
import { resolveOutputs } from './verify/outputs.js';
import type { CheckpointStore, LoadedCheckpoint } from './store/store.js';
import type { GitListing } from './sources/git.js';
import { acquireTreeLock, type TreeLock } from './tree-lock.js';

const CORE = 'orchestrate';

/** Bumped when what the capture records about the roots a file names (`pathBound`) changes. */
const PATH_POLICY_VERSION = '1';

/** A checkpoint written back: its id, the times it gave each file, and the files and bytes written. */
interface Restored {
  readonly id: string;
  /** The store it came from, when not the run's own (a read-only layer). */
  readonly origin: string | undefined;
  readonly stamps: Map<string, FileStamp>;
  readonly files: number;
  readonly bytes: number;
  /** State files plugins left out of the restore, by reason. */
  readonly leftOut: BuildReport['leftOut'];
  /** The same, file by file. */
  readonly leftOutPaths: readonly { readonly path: string; readonly reason: string }[];
  /** How the restore replayed times, to date inputs a configure step writes after it. */
  readonly times: TimePlan;
}

/** What a run should do. */
export interface RunOptions {
  command: 'build' | 'prepare' | 'restore';
  /** Do not save a checkpoint after the build. */
  noSave?: boolean;
  /**
   * Record the state this run writes in the store's tree ledger (the default).
   * `false` for a scratch tree removed after the run (`verify`): the store is left as it was.
   */
  recordTree?: boolean;
  /** Ask the plugins for the build's outputs (`selectOutputs`) and return them in the report's `outputs`. */
  listOutputs?: boolean;
  /**
   * `build` only: run as a build up to `configure`, then ask the plugins what the
   * build would rebuild and why (`explainBuild`) instead of building, save
   * nothing, and return it in the report's `explanation`. The tree is meant to
   * be a scratch copy (`orchestrate explain` makes one): the restore writes it.
   */
  explain?: boolean;
  /**
   * Wait while another run holds the tree's lock (the default); `false`
   * throws a `TreeBusyError` at once instead (`--no-wait`).
   */
  wait?: boolean;
  signal?: AbortSignal;
}

export interface OrchestratorOptions {
  /** The user's config draft (plugins already loaded). */
  draft: ConfigDraft;
  plugins: readonly Plugin[];
  projectDir: string;
  configFile?: string | undefined;
  logger: Logger;
  env?: Readonly<Record<string, string | undefined>>;
  /** Store locations from the command line. */
  stores?: StoreOverrides | undefined;
  /** `--name` from the command line: the project's identity, over the config's `name`. */
  nameOverride?: string | undefined;
  /** `--times` from the command line (`exact` or `flat`). */
  timesOverride?: string | undefined;
  /** A store to use instead of opening the configured local one. */
  store?: CheckpointStore;
  /** A git listing of the expected source directory, started while the plugins loaded; the first run uses it. */
  gitListing?: GitListing | undefined;
}

/** What {@link Orchestrator.sharing} gives `push`, `pull` and `list --remote`. */
export interface SharingSession {
  readonly config: ResolvedConfig;
  readonly store: CheckpointStore;
  readonly remote: RemoteLayer;
  readonly fingerprint: Readonly<Fingerprint>;
}

/** Equal but for the time they were made (and so the id): the same sources, state, fingerprint, roots and plugin data. */
function sameCheckpoint(a: CheckpointManifest, b: CheckpointManifest): boolean {
  const { createdAt: _a, ...restA } = a;
  const { createdAt: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

/** `inputs` with flat times when the checkpoint records times `flat` (see flat-times.ts). */
function withFlatInputs(inputs: Pick<CheckpointManifest, 'inputs'>, flat: boolean): Pick<CheckpointManifest, 'inputs'> {
  return flat && inputs.inputs !== undefined ? { inputs: flattenRecordedTimes(inputs.inputs) } : inputs;
}

/** `records` with its keys in code-unit order: a manifest's text must not depend on the order a walk or git listed the files. */
function sortedByPath<T>(records: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(records).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The remote layer of the config, when it names a remote. Loaded on demand:
 * the remote clients (registry, cache, packs, compression) cost ~30 ms of
 * every start-up otherwise, and most runs have no remote.
 */
async function tryOpenRemoteLayer(
  config: ResolvedConfig,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
  signal: AbortSignal | undefined,
): Promise<RemoteLayer | undefined> {
  if (config.remote === undefined) return undefined;
  const { openRemoteLayer } = await import('./store/remote-layer.js');
  return openRemoteLayer(config, env, logger, signal);
}

/** The manifest's `inputs` for a selection: what it names that is not state, when anything. */
function inputsOf(
  ctx: BuildContext,
  selection: StateSelection,
  state: Readonly<Record<string, StateRecord>>,
  previous: CheckpointManifest['inputs'],
): Pick<CheckpointManifest, 'inputs'> {
  const paths = (selection.inputs ?? []).filter((path) => state[path] === undefined);
  if (paths.length === 0) return {};
  const inputs = captureInputs(ctx, paths, previous);
  return Object.keys(inputs).length > 0 ? { inputs } : {};
}

/** Dates the tree's inputs against a restored checkpoint's records: unchanged ones their recorded time, changed ones after every restored time. */
async function replayInputTimes(ctx: BuildContext, recorded: NonNullable<CheckpointManifest['inputs']>, times: TimePlan): Promise<void> {
  const inputs = compareInputs(ctx, recorded);
  const entries: [string, bigint][] = [];
  for (const [path, recordedNs] of inputs.unchanged) entries.push([join(ctx.buildDir, path), replayedNs(times, recordedNs)]);
  for (const path of inputs.changed) entries.push([join(ctx.buildDir, path), times.changedNs]);
  await setTimes(entries);
  ctx.logger.debug(`configure: ${inputs.unchanged.size} inputs unchanged, ${inputs.changed.length} changed`);
}

/** `changes` with the changed inputs that lie in the source directory as modified sources. */
function withChangedInputs(changes: ChangeSet, changed: readonly string[], ctx: BuildContext): ChangeSet {
  const modified = new Set(changes.modified);
  for (const path of changed) {
    const sourcePath = ctx.sourcePathOf(path);
    if (sourcePath !== undefined) modified.add(sourcePath);
  }
  return { ...changes, modified: [...modified].sort() };
}

/** The option every first-party plugin offers to make a build's outputs path-independent. */
export const RELOCATABLE_OPTION = 'relocatable: true';

/**
 * Leaves out of `plan` every state file whose stored bytes name a root of the
 * checkpoint (`pathBound`) that differs from this tree's: restored, it would
 * carry the old path into the build's outputs (debug info, `__FILE__`, a
 * RUNPATH), which a clean build here would not.
 */
export function skipPathBound(plan: RestorePlan, ctx: BuildContext): void {
  const roots = plan.manifest.roots;
  const moved = { source: roots.source !== ctx.sourceDir, build: roots.build !== ctx.buildDir };
  if (!moved.source && !moved.build) return;
  for (const [path, record] of [...plan.entries]) {
    if (record.pathBound === undefined || !moved[record.pathBound]) continue;
    plan.skip(
      path,
      `names the old path '${roots[record.pathBound]}' (the plugin option '${RELOCATABLE_OPTION}' makes the build's outputs path-independent)`,
    );
  }
}

/** Why a manifest exceeds the config's `limits`, or `undefined`. */
function exceededLimit(manifest: CheckpointManifest, limits: ResolvedConfig['limits']): string | undefined {
  const entries = Object.keys(manifest.state).length + Object.keys(manifest.sources).length;
  if (entries > limits.entries) return `it lists ${entries} entries, more than the limit of ${limits.entries} (config 'limits.entries')`;
  let bytes = 0;
  for (const record of Object.values(manifest.state)) bytes += record.size ?? 0;
  if (bytes > limits.bytes) return `its state holds ${bytes} bytes, more than the limit of ${limits.bytes} (config 'limits.bytes')`;
  return undefined;
}

function wrapTapErrors(hooks: OrchestratorHooks): void {
  const intercept = (name: string, hook: Hook<unknown[], unknown>): void => {
    hook.intercept({
      register: (tap) => {
        if (tap.name === CORE) return tap;
        const fn = tap.fn as (...args: unknown[]) => unknown;
        const attribute = (error: unknown): never => {
          if (error instanceof PluginError || isCheckpointRefusal(error) || isOrchestrateError(error)) throw error;
          throw new PluginError(tap.name, name, error);
        };
        if (tap.type === 'promise') {
          tap.fn = (...args: unknown[]) => {
            try {
              return Promise.resolve(fn(...args)).catch(attribute);
            } catch (error) {
              return attribute(error);
            }
          };
        } else if (tap.type === 'sync') {
          tap.fn = (...args: unknown[]) => {
            try {
              return fn(...args);
            } catch (error) {
              return attribute(error);
            }
          };
        }
        return tap;
      },
    });
  };
  for (const [name, hook] of Object.entries(hooks)) {
    // tapable's HookMap also has (deprecated) tap methods: tell it apart by `for`.
    if (isHookMap(hook)) {
      (
        hook as unknown as { intercept(i: { factory: (key: string, hook: Hook<unknown[], unknown>) => Hook<unknown[], unknown> }): void }
      ).intercept({
        factory: (key, inner) => {
          intercept(`${name}(${key})`, inner);
          return inner;
        },
      });
    } else {
      intercept(name, hook as unknown as Hook<unknown[], unknown>);
    }
  }
}

function isHookMap(hook: object): boolean {
  return typeof (hook as { for?: unknown }).for === 'function';
}

function tapOnlyHook(hook: object): object {
  const h = hook as Record<string, ((...args: unknown[]) => unknown) | undefined>;
  const view: Record<string, unknown> = {};
  for (const method of ['tap', 'tapAsync', 'tapPromise', 'intercept']) {
    const fn = h[method];
    if (typeof fn === 'function') view[method] = fn.bind(hook);
  }
  return Object.freeze(view);
}

function tapOnly(hooks: OrchestratorHooks): PluginHooks {
  const view: Record<string, unknown> = {};
  for (const [name, hook] of Object.entries(hooks)) {
    if (!isHookMap(hook)) {
      view[name] = tapOnlyHook(hook);
    } else {
      const map = hook as unknown as { for(key: string): object };
      view[name] = Object.freeze({ for: (key: string) => tapOnlyHook(map.for(key)) });
    }
  }
  return Object.freeze(view) as unknown as PluginHooks;
}

/** Runs the checkpoint lifecycle for one project. */
export class Orchestrator {
  /** Every hook; only the orchestrator calls them. */
  readonly hooks: OrchestratorHooks = createHooks();
  readonly #options: OrchestratorOptions;
  /** The options' logger, every warning also collected into the run's report. */
  readonly #logger: Logger;
  /** The warnings of the run in progress. */
  #warnings: string[] = [];
  /** The git listing started with the orchestrator; the first run takes it, a later one lists the tree as it is then. */
  #gitListing: GitListing | undefined;
  readonly #plugins: readonly Plugin[];
  /** Checkpoints being read while the fingerprint and the sources are computed. */
  #prefetched: { store: CheckpointStore; project: string; loading: Promise<LoadedCheckpoint[]> } | undefined;
  /** The remote of the run in progress, when one is configured (not for a store given to the orchestrator, as `verify` gives). */
  #remote: RemoteLayer | undefined;
  /** What the core's checkpoint lookup judged of each checkpoint, per run (an explaining run reports it). */
  readonly #candidates = new WeakMap<BuildContext, CheckpointCandidate[]>();

  constructor(options: OrchestratorOptions) {
    this.#options = options;
    this.#logger = withWarningsTo(options.logger, (message, scope) =>
      this.#warnings.push(scope === CORE ? message : `[${scope.replace(/^orchestrate:/, '')}] ${message}`),
    );
    this.#gitListing = options.gitListing;
    this.#plugins = options.plugins;
    wrapTapErrors(this.hooks);
    const api: PluginApi = {
      hooks: tapOnly(this.hooks),
      logger: (name) => this.#logger.child(name),
    };
    const seen = new Set<string>();
    for (const plugin of this.#plugins) {
      if (seen.has(plugin.name)) options.logger.warn(`plugin '${plugin.name}' is listed more than once`);
      seen.add(plugin.name);
      try {
        plugin.apply(api);
      } catch (error) {
        throw new PluginError(plugin.name, 'apply', error);
      }
    }
    this.hooks.findCheckpoint.tapPromise({ name: CORE, stage: Stage.Core }, (query, ctx) =>
      this.#findInStore(query.project, query.fingerprint, ctx),
    );
    // The one path placeholder scheme: text state files whose transform is `orchestrate:roots`.
    const spellings = new WeakMap<BuildContext, RootSpellings>();
    this.hooks.captureFile.for(ROOTS_TRANSFORM).tapPromise({ name: CORE, stage: Stage.Core }, async (content, { context }) => {
      let roots = spellings.get(context);
      if (!roots) spellings.set(context, (roots = { source: spellingsOf(context.sourceDir), build: spellingsOf(context.buildDir) }));
      return replaceRoots(content, placeholderPairs(roots));
    });
    this.hooks.restoreFile
      .for(ROOTS_TRANSFORM)
      .tapPromise({ name: CORE, stage: Stage.Core }, async (content, { context }) =>
        replaceRoots(content, rootPairs(context.sourceDir, context.buildDir)),
      );
    this.hooks.initialize.call();
  }

  /** Resolves the config through the plugins and freezes it. */
  async resolveConfig(): Promise<ResolvedConfig> {
    const env = this.#options.env ?? process.env;
    const draft = await this.hooks.resolveConfig.promise(
      { ...this.#options.draft },
      { projectDir: this.#options.projectDir, configFile: this.#options.configFile, env },
    );
    const config = await resolveConfig({
      draft,
      projectDir: this.#options.projectDir,
      configFile: this.#options.configFile,
      plugins: this.#plugins,
      env,
      stores: this.#options.stores,
      nameOverride: this.#options.nameOverride,
      timesOverride: this.#options.timesOverride,
    });
    this.hooks.configResolved.call(config);
    return config;
  }

  /**
   * What `push`, `pull` and `list --remote` work with: the resolved config,
   * the store, the remote and this build's fingerprint (computed by the
   * plugins as a run would; nothing is scanned or built). Throws a
   * ConfigError when no remote is configured.
   */
  async sharing(signal?: AbortSignal): Promise<SharingSession> {
    const env = this.#options.env ?? process.env;
    const config = await this.resolveConfig();
    const logger = this.#options.logger;
    const remote = await tryOpenRemoteLayer(config, env, logger.child('remote'), signal);
    if (remote === undefined) {
      throw new ConfigError('no remote store configured', undefined, {
        hint: "pass --remote URL, set ORCHESTRATE_REMOTE or the config's 'remote'",
      });
    }
    const store = this.#options.store ?? (await openStore(config));
    const context = new RunContext({ config, env, logger, signal: signal ?? new AbortController().signal, store });
    this.hooks.run.call(context);
    const fingerprint = await this.#fingerprint(context);
    return { config, store, remote, fingerprint };
  }

  /** Runs `prepare`, `restore` or `build`. */
  async run(options: RunOptions): Promise<BuildReport> {
    const started = performance.now();
    const timings: Record<string, number> = {};
    const time = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await work();
      } finally {
        timings[name] = Math.round(performance.now() - t0);
      }
    };
    const logger = this.#logger;
    const warnings: string[] = [];
    this.#warnings = warnings;
    const signal = options.signal ?? new AbortController().signal;
    let ctx: RunContext | undefined;
    let lock: TreeLock | undefined;
    try {
      const config = await time('config', () => this.resolveConfig());
      // One run at a time in a tree: a restore writes the build directory and the sources' times.
      lock = await time('lock', () =>
        acquireTreeLock({
          dirs: [config.sourceDir, config.buildDir],
          command: options.command,
          wait: options.wait !== false,
          signal,
          env: this.#options.env ?? process.env,
          onWait: (holder) =>
            logger.info(
              `waiting for the build in progress in ${holder.dir} (pid ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}) …`,
            ),
          onStale: (holder, file) =>
            logger.debug(
              holder ? `taking over the lock of pid ${holder.pid}, which is gone (${file})` : `removing an unreadable lock (${file})`,
            ),
        }),
      );
      const store = this.#options.store ?? (await openStore(config));
      const remote = this.#options.store
        ? undefined
        : await tryOpenRemoteLayer(config, this.#options.env ?? process.env, logger.child('remote'), signal);
      this.#remote = remote;
      ctx = new RunContext({ config, env: this.#options.env ?? process.env, logger, signal, store });
      const context = ctx;
      this.hooks.run.call(context);
      // Independent, and each mostly waits on other processes or the disk: the
      // fingerprint (tool identities), the source scan (git) and reading the
      // project's checkpoints run at once.
      if (options.command !== 'prepare') this.#prefetchCheckpoints(store, config.project);
      const gitListing = this.#gitListing;
      this.#gitListing = undefined;
      const [fingerprint, scan] = await Promise.all([
        time('fingerprint', () => this.#fingerprint(context)),
        time('sources', () =>
          scanSources({
            sourceDir: config.sourceDir,
            buildDir: config.buildDir,
            include: config.include,
            exclude: config.exclude,
            gitListing,
          }),
        ),
      ]);
      ctx.scanned({ sources: scan.sources, untracked: scan.untracked });
      logger.debug(`${scan.sources.size} sources (${scan.method})`);

      let restored: Restored | undefined;
      if (options.command === 'prepare') ctx.buildInFull('prepare always builds in full');
      else {
        const lookup = await time('find', () => this.hooks.findCheckpoint.promise({ project: config.project, fingerprint }, context));
        const outcome = await time('restore', () => this.#restore(context, lookup, options.recordTree !== false));
        if ('reason' in outcome) ctx.buildInFull(outcome.reason);
        else restored = outcome;
      }
      if (ctx.mode === 'full' && options.command !== 'restore') logger.info(`full build: ${ctx.reason}`);
      if (signal.aborted) throw new InterruptedError('SIGINT');

      let saved: string | null = null;
      let saveError: string | null = null;
      let savedManifest: CheckpointManifest | undefined;
      let step: StepResult | undefined;
      let fullBuildMs: number | null = ctx.checkpoint?.fullBuildMs ?? null;
      let outputs: string[] | undefined;
      let explanation: BuildReport['explanation'];
      if (options.explain === true && options.command !== 'build') {
        throw new UsageError(`only a build can be explained, not '${options.command}'`);
      }
      if (options.command !== 'restore') {
        const configured = await time('configure', () => this.hooks.configure.promise(context));
        // A configure step that ran after the restore wrote its outputs anew: those it wrote as they
        // were get their recorded times back, as a restore gives them, so they rebuild nothing.
        if (configured && restored && ctx.checkpoint?.inputs) await replayInputTimes(context, ctx.checkpoint.inputs, restored.times);
        if (options.explain === true) {
          const tool = await time('explain', () => this.hooks.explainBuild.promise(context));
          explanation = this.#explanation(context, restored, tool);
        } else {
          await this.hooks.beforeBuild.promise(context);
          step = await time('build', () => this.hooks.build.promise(context));
          if (step === undefined) {
            throw new OrchestrateError('ERR_NO_BUILD', 'no plugin ran the build', ExitCode.Usage, {
              hint: 'add a build-system plugin to the config\'s plugins, e.g. "@orchestrate/plugin-make"',
            });
          }
          // What a build without orchestrate costs: the configure and build steps of a full build.
          if (ctx.mode === 'full') fullBuildMs = (timings['configure'] ?? 0) + (timings['build'] ?? 0);
          if (options.listOutputs) outputs = resolveOutputs(context, await this.hooks.selectOutputs.promise({ files: [] }, context));
          if (!options.noSave) {
            ({
              saved,
              saveError,
              manifest: savedManifest,
            } = await time('capture', () => this.#capture(context, fingerprint, restored, fullBuildMs)));
          }
        }
        // Shared after the save, in read-write mode only; a push that fails is a warning and `remoteError`.
        const shared = savedManifest;
        if (remote && shared && remote.remote.readOnlyReason === undefined) await time('push', () => remote.push(shared, context.store));
      }
      const durationMs = Math.round(performance.now() - started);
      const report: BuildReport = {
        command: options.command,
        mode: ctx.mode === 'incremental' && restored?.leftOut.some((item) => item.cautious) ? 'partial' : ctx.mode,
        leftOut: restored?.leftOut ?? [],
        warnings,
        reason: ctx.reason,
        restored: restored?.id ?? null,
        restoredFrom: restored ? (restored.origin ?? store.location) : null,
        saved,
        saveError,
        changes: ctx.changes ?? NO_CHANGES,
        durationMs,
        timings,
        restoredFiles: restored?.files ?? 0,
        restoredBytes: restored?.bytes ?? 0,
        bytesDown: remote?.bytesDown ?? 0,
        bytesUp: remote?.bytesUp ?? 0,
        remoteError: remote?.error ?? null,
        unitsRebuilt: step?.unitsRebuilt ?? null,
        unitsTotal: step?.unitsTotal ?? null,
        fullBuildMs: options.command === 'restore' ? null : fullBuildMs,
        timeSavedMs: ctx.mode === 'incremental' && fullBuildMs !== null && options.command !== 'restore' ? fullBuildMs - durationMs : null,
        ...(outputs === undefined ? {} : { outputs }),
        ...(explanation === undefined ? {} : { explanation }),
      };
      await this.hooks.done.promise(report, context);
      return report;
    } catch (error) {
      this.hooks.failed.call(error as Error);
      throw error;
    } finally {
      try {
        await this.hooks.shutdown.promise();
      } finally {
        this.#remote = undefined;
        await lock?.release();
      }
    }
  }

  /** The report's `explanation` of an explaining run: the lookup's candidates, what the restore left out, the tool's answer. */
  #explanation(
    ctx: BuildContext,
    restored: Restored | undefined,
    tool: BuildExplanation | undefined,
  ): NonNullable<BuildReport['explanation']> {
    const roots = restored ? ctx.checkpoint?.roots : undefined;
    return {
      candidates: this.#candidates.get(ctx) ?? [],
      leftOut: restored?.leftOutPaths ?? [],
      tool: tool ?? null,
      checkpointRoots: roots ? { project: roots.project, source: roots.source, build: roots.build } : null,
    };
  }

  async #fingerprint(ctx: BuildContext): Promise<Fingerprint> {
    const base: Fingerprint = {
      'orchestrate.manifest': String(MANIFEST_SCHEMA_VERSION),
      // Checkpoints whose records say which root they name (README "Paths"); older ones are not used.
      'orchestrate.paths': PATH_POLICY_VERSION,
    };
    for (const name of ctx.config.env) base[`env.${name}`] = ctx.env[name] ?? '';
    return this.hooks.fingerprint.promise(base, ctx);
  }

  /** Starts reading `project`'s checkpoints from `store` for {@link #findInStore}. */
  #prefetchCheckpoints(store: CheckpointStore, project: string): void {
    const loading = store.loadCheckpoints(project);
    loading.catch(() => undefined); // reported when awaited
    this.#prefetched = { store, project, loading };
  }

  /**
   * The core's `findCheckpoint`: the matching checkpoint of this project
   * closest to the working tree, from the store and its read-only layers;
   * only when none fits, from the remote (fetched into the store first).
   */
  async #findInStore(project: string, fingerprint: Readonly<Fingerprint>, ctx: BuildContext): Promise<CheckpointLookup> {
    const prefetched = this.#prefetched;
    this.#prefetched = undefined;
    const loaded =
      prefetched !== undefined && prefetched.store === ctx.store && prefetched.project === project
        ? await prefetched.loading
        : await ctx.store.loadCheckpoints(project);
    const candidates: CheckpointCandidate[] = [];
    this.#candidates.set(ctx, candidates);
    const local = this.#closest(loaded, fingerprint, ctx, candidates);
    if (local.choice) return local.choice;
    const remote = this.#remote;
    const fetched = remote ? await this.#findInRemote(remote, project, fingerprint, ctx, candidates) : undefined;
    if (fetched) return fetched;
    const reason = local.mismatch ?? local.unusable ?? `no checkpoint of project '${project}' in ${ctx.store.location}`;
    return { reason: remote?.error ? `${reason}; remote: ${remote.error}` : reason };
  }

  /**
   * The checkpoint of `loaded` with `fingerprint` closest to the working
   * tree, or why none fits; what it judged of each goes into `candidates`
   * (an explaining run reports them).
   */
  #closest(
    loaded: readonly LoadedCheckpoint[],
    fingerprint: Readonly<Fingerprint>,
    ctx: BuildContext,
    candidates: CheckpointCandidate[],
  ): { choice?: CheckpointChoice; mismatch?: string; unusable?: string } {
    let best: { choice: CheckpointChoice; count: number; index: number } | undefined;
    let mismatch: string | undefined;
    let unusable: string | undefined;
    for (const item of loaded) {
      if (item.error !== undefined) {
        ctx.logger.warn(`ignoring checkpoint ${item.file}: ${item.error}`);
        unusable ??= `checkpoint ${item.file} is unusable: ${item.error}`;
        candidates.push({
          id: item.file,
          createdAt: null,
          origin: null,
          fingerprint: [],
          changes: null,
          unusable: item.error,
          chosen: false,
        });
        continue;
      }
      const differences = compareFingerprints(item.manifest.fingerprint, fingerprint);
      const overLimit = exceededLimit(item.manifest, ctx.config.limits);
      const candidate = {
        id: item.ref.id,
        createdAt: item.ref.createdAt,
        origin: item.ref.origin ?? null,
        fingerprint: differences,
        unusable: overLimit ?? null,
        chosen: false,
      };
      if (overLimit !== undefined) {
        ctx.logger.warn(`ignoring checkpoint ${item.ref.id.slice(0, 12)}: ${overLimit}`);
        unusable ??= `checkpoint ${item.ref.id.slice(0, 12)} refused: ${overLimit}`;
        candidates.push({ ...candidate, changes: null });
        continue;
      }
      const choice = selectCheckpoint(item, ctx);
      const count = changeCount(choice.changes);
      candidates.push({ ...candidate, changes: count });
      if (differences.length > 0) {
        mismatch ??= `fingerprint differs from checkpoint ${item.ref.id.slice(0, 12)}: ${describeDifferences(differences)}`;
        continue;
      }
      // Newest first, so a tie keeps the newer one.
      if (!best || count < best.count) best = { choice, count, index: candidates.length - 1 };
    }
    if (best) {
      const chosen = candidates[best.index];
      if (chosen) candidates[best.index] = { ...chosen, chosen: true };
    }
    return { ...(best ? { choice: best.choice } : {}), ...(mismatch ? { mismatch } : {}), ...(unusable ? { unusable } : {}) };
  }

  /**
   * The remote's checkpoint closest to the working tree, fetched into the
   * run's store (only the blobs it lacks) and chosen from there; undefined on
   * a miss (the remote layer prints and records why).
   */
  async #findInRemote(
    remote: RemoteLayer,
    project: string,
    fingerprint: Readonly<Fingerprint>,
    ctx: BuildContext,
    judged: CheckpointCandidate[],
  ): Promise<CheckpointChoice | undefined> {
    if (ctx.store.readOnlyReason !== undefined) {
      remote.error = `not asked: the store ${ctx.store.location} cannot take what it would serve (${ctx.store.readOnlyReason})`;
      return undefined;
    }
    const candidates = await remote.candidates(project, fingerprint);
    const origin = remote.describe();
    const { choice } = this.#closest(
      candidates.map(({ info, manifest }) => ({
        ref: { id: info.id, project: info.project, createdAt: info.createdAt, origin },
        manifest,
      })),
      fingerprint,
      ctx,
      judged,
    );
    const picked = choice && candidates.find((candidate) => candidate.info.id === choice.ref.id);
    if (!picked) return undefined;
    const ref = await remote.fetch(picked, ctx.store);
    return ref && selectCheckpoint({ ref: { ...ref, origin }, manifest: picked.manifest }, ctx);
  }

  /** Restores `lookup`'s checkpoint, or says why not (and then nothing of it is left in the tree). */
  async #restore(ctx: RunContext, lookup: CheckpointLookup | undefined, recordTree: boolean): Promise<Restored | { reason: string }> {
    if (!lookup) return { reason: 'no checkpoint found' };
    if ('reason' in lookup) return { reason: lookup.reason };
    const short = lookup.ref.id.slice(0, 12);
    // Build output this tree's earlier runs wrote, and what plugins vouch for in beforeRestore.
    const knownOutputs = readTreeLedger(ctx.config.store, ctx.buildDir);
    const rules = new WriteRules({
      sourceDir: ctx.sourceDir,
      buildDir: ctx.buildDir,
      tree: ctx.tree ?? { sources: new Map(), untracked: new Set() },
      knownOutputs,
    });
    let written: readonly string[] = [];
    // Phase boundaries as debug lines (ORCHESTRATE_DEBUG=restore,capture): the kill-point tests wait for them.
    ctx.logger.child('restore').debug(`restoring checkpoint ${short}: ${Object.keys(lookup.manifest.state).length} state files`);
    try {
      // A checkpoint that claims a source or version-control metadata as its state is refused whole,
      // before plugins see it or drop entries from the plan.
      for (const path of Object.keys(lookup.manifest.state)) rules.checkNotSource(path, 'its state file');
      for (const path of Object.keys(lookup.manifest.inputs ?? {})) rules.checkNotSource(path, 'its input');
      ctx.consider(lookup);
      // Inputs no version control tracks decide by content too: one that changed is a changed source.
      const inputs = compareInputs(ctx, lookup.manifest.inputs);
      if (inputs.changed.length > 0) ctx.widen(withChangedInputs(lookup.changes, inputs.changed, ctx));
      const refusal = await this.hooks.validateCheckpoint.promise(lookup.manifest, ctx);
      if (refusal) return { reason: `checkpoint ${short} refused: ${refusal.reason}` };
      ctx.widen(await this.hooks.changes.promise(ctx.changes ?? lookup.changes, ctx));
      const entries = new Map<string, StateRecord>(Object.entries(lookup.manifest.state));
      const leftOut = new Map<string, { count: number; cautious: boolean }>();
      const dropped = new Set<string>();
      const leftOutPaths: { path: string; reason: string }[] = [];
      const plan: RestorePlan = {
        manifest: lookup.manifest,
        entries,
        skip: (path, why, cautious = false) => {
          if (!entries.delete(path)) return;
          dropped.add(path);
          leftOutPaths.push({ path, reason: why });
          ctx.logger.debug(`not restoring '${path}': ${why}`);
          const counted = leftOut.get(why);
          leftOut.set(why, { count: (counted?.count ?? 0) + 1, cautious: cautious || (counted?.cautious ?? false) });
        },
        allowReplace: (path, why) => {
          knownOutputs.add(path);
          ctx.logger.debug(`may replace '${path}': ${why}`);
        },
      };
      // One path policy for every plugin: state whose bytes name a root that moved is left out, before plugins
      // see the plan, so the build tool makes it again here (README "Paths").
      skipPathBound(plan, ctx);
      await this.hooks.beforeRestore.promise(plan, ctx);
      const outcome = await restoreCheckpoint(ctx, plan, {
        rules,
        inputs,
        dropped,
        transform: (name, content, info) => this.#transform('restoreFile', name, content, info),
      });
      written = outcome.restored;
      // What this run wrote is build output of this tree, whatever happens next.
      if (recordTree) recordTreeOutputs(ctx.config.store, ctx.buildDir, written, 'add');
      ctx.restored();
      // The store's least-recently-used order (maxSize) counts a restore as a use.
      await ctx.store.touchCheckpoint(lookup.ref);
      await this.hooks.afterRestore.promise(
        {
          manifest: lookup.manifest,
          restored: outcome.restored,
          newestRecordedNs: outcome.newestRecordedNs,
          changedSourceTimeNs: outcome.changedSourceTimeNs,
          timeShiftNs: outcome.timeShiftNs,
          ...(outcome.flatTimeNs === undefined ? {} : { flatTimeNs: outcome.flatTimeNs }),
        },
        ctx,
      );
      ctx.logger.info(
        `restored checkpoint ${short}: ${outcome.restored.length} files; ${changeCount(ctx.changes ?? NO_CHANGES)} changed sources`,
      );
      for (const [reason, { count, cautious }] of leftOut) {
        ctx.logger.info(
          `left out of the restore: ${count} ${count === 1 ? 'file' : 'files'}, ${reason}${cautious ? ' (the build tool makes them again)' : ''}`,
        );
      }
      let files = 0;
      let bytes = 0;
      for (const path of outcome.restored) {
        const record = entries.get(path);
        if (record?.kind !== 'file' && record?.kind !== 'exec') continue;
        files++;
        bytes += record.size ?? 0;
      }
      return {
        id: lookup.ref.id,
        origin: lookup.ref.origin,
        stamps: outcome.stamps,
        files,
        bytes,
        times: {
          shiftNs: outcome.timeShiftNs,
          changedNs: outcome.changedSourceTimeNs,
          ...(outcome.flatTimeNs === undefined ? {} : { flatNs: outcome.flatTimeNs }),
        },
        leftOut: [...leftOut].map(([reason, { count, cautious }]) => ({ reason, count, cautious })),
        leftOutPaths,
      };
    } catch (error) {
      if (error instanceof InterruptedError || ctx.signal.aborted) throw error;
      // Never build on a half-repaired tree: what the restore wrote goes again (restoreCheckpoint
      // removed its own writes when it failed; these are a plugin's failure after it).
      await Promise.all(written.map((path) => rm(join(ctx.buildDir, path), { force: true, recursive: true })));
      if (isCheckpointRefusal(error)) return { reason: `checkpoint ${short} refused: ${error.reason}` };
      if (isOrchestrateError(error) && error.code === 'ERR_STORE') {
        ctx.logger.warn(`checkpoint ${short} is damaged, building in full: ${error.message}`);
        return { reason: `checkpoint ${short} is damaged: ${error.message}` };
      }
      // A plugin that cannot handle what the checkpoint holds: the checkpoint is not used, the build is.
      const message = error instanceof Error ? error.message : String(error);
      ctx.logger.warn(`restoring checkpoint ${short} failed, building in full: ${message}`);
      return { reason: `checkpoint ${short} could not be restored: ${message}` };
    }
  }

  async #transform(kind: 'restoreFile' | 'captureFile', name: string, content: Buffer, info: FileTransformInfo): Promise<Buffer> {
    const hook = this.hooks[kind].get(name);
    if ((!hook || !hook.isUsed()) && kind === 'restoreFile') {
      throw new CheckpointRefusedError(`no plugin provides its transform '${name}' (file '${info.path}'); add the plugin that captured it`);
    }
    if (!hook || !hook.isUsed()) {
      throw new OrchestrateError(
        'ERR_TRANSFORM',
        `no plugin provides the ${kind} transform '${name}' (file '${info.path}')`,
        ExitCode.Plugin,
        {
          hint: 'add the plugin that captured this checkpoint to the config',
        },
      );
    }
    return hook.promise(content, info);
  }

  /**
   * Saves the build's state as a checkpoint, then prunes the project's old
   * ones. The build has succeeded by then, so a store that cannot take the
   * checkpoint (read-only, full) is no failure of the run: nothing is saved,
   * a warning says why, and the reason goes into the report as `saveError`.
   * A failed write leaves no manifest: blobs written go at the next gc, and
   * every temporary file is removed by the write that made it.
   */
  async #capture(
    ctx: RunContext,
    fingerprint: Fingerprint,
    restored: Restored | undefined,
    fullBuildMs: number | null,
  ): Promise<{ saved: string | null; saveError: string | null; manifest?: CheckpointManifest }> {
    if (ctx.store.readOnlyReason !== undefined) {
      const why = `store ${ctx.store.location} is read-only: no checkpoint saved (${ctx.store.readOnlyReason})`;
      ctx.logger.warn(why);
      return { saved: null, saveError: why };
    }
    const selection = await this.hooks.selectState.promise({ files: [] }, ctx);
    ctx.logger.child('capture').debug(`capturing ${selection.files.length} selected state paths`);
    let done: (() => Promise<void>) | undefined;
    let saved: { id: string; manifest: CheckpointManifest };
    try {
      done = await ctx.store.beginWrite();
      saved = await this.#save(ctx, fingerprint, selection, restored, fullBuildMs);
    } catch (error) {
      if (!isOrchestrateError(error) || error.code !== 'ERR_STORE') throw error;
      ctx.logger.warn(`no checkpoint saved: ${error.message}`);
      return { saved: null, saveError: error.message };
    } finally {
      await done?.();
    }
    return { saved: saved.id, saveError: null, manifest: saved.manifest };
  }

  /**
   * Captures the selected state and writes the manifest; returns its id and
   * the manifest (the restored one's when the build changed nothing). Runs
   * between `beginWrite` and its end.
   */
  async #save(
    ctx: RunContext,
    fingerprint: Fingerprint,
    selection: StateSelection,
    restored: Restored | undefined,
    fullBuildMs: number | null,
  ): Promise<{ id: string; manifest: CheckpointManifest }> {
    const previous = ctx.checkpoint;
    const state = await captureState({
      context: ctx,
      selection,
      transform: (name, content, info) => this.#transform('captureFile', name, content, info),
      ...(previous && restored ? { reuse: { state: previous.state, stamps: restored.stamps } } : {}),
    });
    const inputs = withFlatInputs(inputsOf(ctx, selection, state, previous?.inputs), ctx.config.times === 'flat');
    const sources = sourcesWithoutState(ctx.tree?.sources ?? new Map(), notSourcesOf({ state, ...inputs }, ctx), ctx);
    // `times: flat`: no time of the build's clock in the manifest (see flat-times.ts).
    const flat = ctx.config.times === 'flat';
    const capturedSources = sortedByPath(await captureSources(ctx.sourceDir, sources));
    const sourceRecords = flat ? flattenRecordedTimes(capturedSources) : capturedSources;
    const stateRecords = flat ? flattenRecordedTimes(state) : state;
    const manifest: CheckpointManifest = {
      schema: MANIFEST_SCHEMA_VERSION,
      project: ctx.config.project,
      createdAt: checkpointCreatedAt(ctx.env),
      orchestrate: VERSION,
      fingerprint,
      roots: { project: ctx.projectDir, source: ctx.sourceDir, build: ctx.buildDir },
      sourceDir: relativeInside(ctx.projectDir, ctx.sourceDir) ?? ctx.sourceDir,
      buildDir: relativeInside(ctx.projectDir, ctx.buildDir) ?? ctx.buildDir,
      sources: sourceRecords,
      ...inputs,
      state: stateRecords,
      data: {},
      // A measured duration differs from run to run: not in a reproducible (flat) checkpoint, whose
      // restores then report no time saved.
      ...(fullBuildMs === null || flat ? {} : { fullBuildMs }),
      ...(ctx.config.scope === undefined ? {} : { scope: ctx.config.scope.scope }),
    };
    await this.hooks.afterCapture.promise(manifest, ctx);
    // Interrupted during the capture: save nothing (the blobs written go at the next gc).
    if (ctx.signal.aborted) throw new InterruptedError('SIGINT');
    // The build changed nothing: the restored checkpoint holds this state already. Saved again, it
    // would only push an older, different checkpoint out of the project's `keep`.
    if (previous && restored && sameCheckpoint(previous, manifest)) {
      ctx.logger.info(`checkpoint ${restored.id.slice(0, 12)} holds this build's state; not saved again`);
      await this.#bound(ctx, restored.id);
      return { id: restored.id, manifest: previous };
    }
    const ref = await ctx.store.putCheckpoint(manifest);
    recordTreeOutputs(ctx.config.store, ctx.buildDir, Object.keys(stateRecords), 'replace');
    const files = Object.values(stateRecords).filter((r) => r.blob).length;
    ctx.logger.info(`saved checkpoint ${ref.id.slice(0, 12)} (${files} state files, ${sources.size} sources)`);
    // Only when the project has more checkpoints than it keeps; the whole-store sweep is `orchestrate gc`.
    if ((await ctx.store.countCheckpoints(ctx.config.project)) > ctx.config.keep) {
      try {
        const pruned = await ctx.store.prune(ctx.config.project, ctx.config.keep);
        ctx.logger.debug(`removed ${pruned.checkpointsRemoved} old checkpoints and ${pruned.blobsRemoved} blobs`);
      } catch (error) {
        // The checkpoint is saved; old ones stay until the next save or gc.
        if (!isOrchestrateError(error) || error.code !== 'ERR_STORE') throw error;
        ctx.logger.warn(`saved checkpoint ${ref.id.slice(0, 12)}, but could not remove old ones: ${error.message}`);
      }
    }
    await this.#bound(ctx, ref.id);
    return { id: ref.id, manifest };
  }

  /** With `maxSize`: trims the store to it, least recently used checkpoints first, keeping `saved`. */
  async #bound(ctx: RunContext, saved: string): Promise<void> {
    const maxSize = ctx.config.maxSize;
    if (maxSize === undefined) return;
    try {
      const trimmed = await ctx.store.trim(maxSize, [saved]);
      if (trimmed.checkpointsRemoved > 0 || trimmed.blobsRemoved > 0) {
        ctx.logger.info(
          `store over its bound of ${maxSize} bytes: removed ${trimmed.checkpointsRemoved} least recently used checkpoints and ${trimmed.blobsRemoved} blobs (${trimmed.bytesFreed} bytes); ${trimmed.bytesAfter} bytes now`,
        );
      }
    } catch (error) {
      // The checkpoint is saved; the bound is met at the next save or gc.
      if (!isOrchestrateError(error) || error.code !== 'ERR_STORE') throw error;
      ctx.logger.warn(`could not bound the store to ${maxSize} bytes: ${error.message}`);
    }
  }
}
