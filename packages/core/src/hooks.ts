/**
 * Every lifecycle hook of the orchestrator, grouped by phase. Only the
 * orchestrator calls hooks; plugins receive a tap-only view
 * ({@link PluginHooks}). A tap should use its plugin's name, which the error
 * interceptor uses to attribute failures.
 */
import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap, SyncHook } from 'tapable';
import type { CheckpointManifest, StateRecord } from './checkpoint/manifest.js';
import type { BuildContext, CheckpointChoice } from './context.js';
import type { ConfigDraft, ConfigEnv, ResolvedConfig } from './config/schema.js';
import type { ChangeSet } from './sources/manifest.js';
import type { FingerprintDifference } from './checkpoint/fingerprint.js';

/** Named tap stages, instead of magic numbers. Lower runs first. */
export const Stage = {
  /** Before ordinary taps. */
  Early: -100,
  Normal: 0,
  /** After ordinary taps. */
  Late: 100,
  /** The core's own taps (the local store lookup in `findCheckpoint`, the `orchestrate:roots` transforms). */
  Core: 1000,
  /** After the core's own taps, e.g. to inspect what the core's roots transform made of a file. */
  AfterCore: 2000,
} as const;

/** A keyed record of everything a checkpoint's usability depends on; not a hash, so a mismatch can name its entry. */
export type Fingerprint = Record<string, string>;

/** What `findCheckpoint` looks for. */
export interface CheckpointQuery {
  readonly project: string;
  readonly fingerprint: Readonly<Fingerprint>;
}

/** Result of `findCheckpoint`: a usable checkpoint, or the reason there is none. */
export type CheckpointLookup = CheckpointChoice | { readonly reason: string };

/** A plugin's refusal of a checkpoint. */
export interface Refusal {
  readonly reason: string;
}

/** The files a restore will write, before it writes them. Plugins may drop entries. */
export interface RestorePlan {
  readonly manifest: CheckpointManifest;
  /** State entries to restore, by path relative to the build directory. */
  readonly entries: Map<string, StateRecord>;
  /**
   * Does not restore `path` (and says why at debug level), e.g. an output of a
   * removed source. `cautious`: the plugin cannot tell whether the output
   * depends on the change (a recursive make's outputs); the report's mode is
   * then `partial`, and its `leftOut` counts them by reason.
   */
  skip(path: string, why: string, cautious?: boolean): void;
  /**
   * Lets the restore replace the file that stands at `path` (relative to the
   * build directory) although it is neither known build output nor holds the
   * checkpoint's bytes: the plugin has looked at it and vouches it is the
   * tool's own (automake's `# dummy` dependency files that configure writes).
   * Never for a source or version-control metadata: those rules stay.
   */
  allowReplace(path: string, why: string): void;
}

/** Passed with each file through `restoreFile` / `captureFile` transforms. */
export interface FileTransformInfo {
  /** Path relative to the build directory. */
  readonly path: string;
  readonly absolutePath: string;
  readonly context: BuildContext;
}

/** Result of writing the state back. */
export interface RestoreResult {
  readonly manifest: CheckpointManifest;
  /** Paths (relative to the build directory) that were written. */
  readonly restored: readonly string[];
  /** Newest time the restore gave a restored file or unchanged source, in ns (the recorded one less {@link timeShiftNs}). */
  readonly newestRecordedNs: bigint;
  /** Time given to added and modified sources, in ns. */
  readonly changedSourceTimeNs: bigint;
  /**
   * Subtracted from every recorded time when it was replayed: 0 unless the
   * checkpoint's times reach this machine's clock (another machine's clock ran
   * ahead). A plugin that sets a recorded time again, or keeps recorded times
   * in a tool's own database, subtracts it too.
   */
  readonly timeShiftNs: bigint;
  /**
   * A checkpoint recorded with `times: flat`: the time its flat time was
   * replayed as (just before {@link changedSourceTimeNs}, after every file
   * that existed before the restore); undefined for other checkpoints. A
   * plugin that keeps recorded times in a tool's own database sets them to
   * this (ninja's logs: see plugin-cmake).
   */
  readonly flatTimeNs?: bigint;
}

/** Result of a `configure` or `build` step. */
export interface StepResult {
  /** The command line that ran, for the report. */
  readonly command: string;
  /** Compile units the step ran (a `build` tap that can count them, e.g. from the tool's output); for the report. */
  readonly unitsRebuilt?: number;
  /** Compile units the build has in all, rebuilt or not; for the report. */
  readonly unitsTotal?: number;
}

/** One unit the build tool says it would build, with its own words for why. */
export interface ExplainedUnit {
  /**
   * What is built: an output path relative to the build directory (an object
   * file, a program), or a unit the tool names otherwise (a crate).
   */
  readonly unit: string;
  /** The tool's own reasons, one line each (`Prerequisite 'src/a.c' is newer than target 'src/a.o'.`). */
  readonly reasons: readonly string[];
  /** The sources it compiles, relative to the source directory, when the plugin knows them (a compile unit). */
  readonly sources?: readonly string[];
  /** Other spellings the tool uses for this unit in reasons (an absolute path, a crate name), so a dependent's reason can be matched to it. */
  readonly names?: readonly string[];
  /** True when the tool says the unit runs again because its command line changed (a warning: no source change causes that). */
  readonly commandChanged?: boolean;
}

/** What the build tool would build in the restored tree, asked from the tool itself (`explainBuild`). */
export interface BuildExplanation {
  /** The command line that asked the tool (`make -n --debug=basic`, `ninja -n -d explain`). */
  readonly command: string;
  /** The units the build would run, in the tool's order; compile units and the links after them, not phony targets. */
  readonly units: readonly ExplainedUnit[];
  /** What the tool's answer cannot show (say, a configure step it would re-run first); printed as notes. */
  readonly notes?: readonly string[];
}

/** One file selected as build state. */
export interface StateFileSpec {
  /** Path relative to the build directory. */
  readonly path: string;
  /** Name of a `captureFile`/`restoreFile` transform, e.g. to replace absolute paths by placeholders. */
  readonly transform?: string;
  /**
   * Restored at another path even when its stored bytes (after the transform)
   * still name the old source or build directory: the plugin repairs the file
   * there, or the paths in it do not change what the build makes (cargo's
   * build-script outputs, which the plugin re-runs when they matter). Without
   * it such a file is left out of a restore at another path (README "Paths").
   * @default false
   */
  readonly movable?: boolean;
}

/** The build state a plugin selects for capture. */
export interface StateSelection {
  readonly files: StateFileSpec[];
  /**
   * Files the build reads that neither version control nor the build wrote
   * (configure's `config.h` and Makefiles, a header a script generated before
   * the build), relative to the build directory. Recorded by content, never
   * restored: a later restore gives each its recorded time back when its
   * content is unchanged, so a configure that rewrote identical files costs
   * nothing, and a time after every restored one when it changed.
   */
  readonly inputs?: string[];
}

/** The files a build produced that a user ships or runs, selected by `selectOutputs`. */
export interface OutputSelection {
  /** Paths relative to the build directory. */
  readonly files: string[];
}

/** Final report of a run. */
export interface BuildReport {
  readonly command: 'build' | 'prepare' | 'restore';
  /** `partial`: incremental, but outputs were left out of the restore because no plugin could tell they were unaffected. */
  readonly mode: 'full' | 'incremental' | 'partial';
  /** Every warning of the run (a plugin's or the core's), e.g. a warm-build hazard. */
  readonly warnings: readonly string[];
  /** State files left out of the restore, counted by reason (the tool builds them again). */
  readonly leftOut: readonly { readonly reason: string; readonly count: number; readonly cautious: boolean }[];
  readonly reason: string | null;
  /** Id of the checkpoint restored, or null (a full build). */
  readonly restored: string | null;
  /** The store the restored checkpoint came from (the local store, a read-only layer, the remote as `orchestrate` describes it). */
  readonly restoredFrom: string | null;
  /** Bytes downloaded from the remote (compressed packs); 0 without a remote. */
  readonly bytesDown: number;
  /** Bytes uploaded to the remote (packs, pack index, manifest); 0 without a remote or in read-only mode. */
  readonly bytesUp: number;
  /**
   * Why the remote served or took nothing (it failed, timed out, served
   * damaged or unsigned checkpoints, had none, refused the push); null when
   * it did what was asked or none is configured. Never a failed build.
   */
  readonly remoteError: string | null;
  /** Id of the checkpoint that holds this build's state, or null when none was saved. */
  readonly saved: string | null;
  /**
   * Why no checkpoint was saved although the run meant to save one (a
   * read-only store, a full disk); null when it was saved or not meant to be
   * (`restore`, `--no-save`). The build itself succeeded either way.
   */
  readonly saveError: string | null;
  readonly changes: ChangeSet;
  readonly durationMs: number;
  readonly timings: Readonly<Record<string, number>>;
  /** State files the restore wrote (files and executables; not directories or links); 0 for a full build. */
  readonly restoredFiles: number;
  /** Their bytes, as recorded in the checkpoint. */
  readonly restoredBytes: number;
  /** Compile units the build ran, when the build-system plugin counts them (see {@link StepResult}); else null. */
  readonly unitsRebuilt: number | null;
  /** Compile units in all, when the build-system plugin counts them; else null. */
  readonly unitsTotal: number | null;
  /**
   * How long the project's last full build took (its configure and build
   * steps), in ms: this run's own for a full build, else as recorded in the
   * restored checkpoint; null when unknown (`restore`, a checkpoint older than the record).
   */
  readonly fullBuildMs: number | null;
  /** {@link fullBuildMs} less this run's {@link durationMs} for an incremental build; negative when it cost more; else null. */
  readonly timeSavedMs: number | null;
  /**
   * The build's outputs (paths relative to the build directory, sorted), when
   * the run was asked for them (`RunOptions.listOutputs`, as `verify` does); else undefined.
   */
  readonly outputs?: readonly string[];
  /** What the build would do, when the run was asked to explain instead of building (`RunOptions.explain`); else undefined. */
  readonly explanation?: RunExplanation;
}

/** One checkpoint of the project the store held, as `findCheckpoint`'s core lookup judged it. */
export interface CheckpointCandidate {
  readonly id: string;
  readonly createdAt: string | null;
  /** The store it came from, when not the run's own (a read-only layer). */
  readonly origin: string | null;
  /** The fingerprint entries that differ from this run's, sorted by key; empty when it matches. */
  readonly fingerprint: readonly FingerprintDifference[];
  /** Changed source paths between it and the working tree (its change set's size); null when unreadable. */
  readonly changes: number | null;
  /** Why it cannot be used although its fingerprint may match (unreadable, over the config's limits); else null. */
  readonly unusable: string | null;
  /** The one the lookup chose (the closest with a matching fingerprint, ties to the newest). */
  readonly chosen: boolean;
}

/** What an explaining run (`RunOptions.explain`) learned, in the report's `explanation`. */
export interface RunExplanation {
  /** Every checkpoint the core's lookup looked at, newest first; empty when a plugin's `findCheckpoint` answered first. */
  readonly candidates: readonly CheckpointCandidate[];
  /** Each state file plugins left out of the restore, with the reason they gave. */
  readonly leftOut: readonly { readonly path: string; readonly reason: string }[];
  /** The build tool's answer (`explainBuild`); null when no plugin answered. */
  readonly tool: BuildExplanation | null;
  /** The directories the checkpoint was captured at, when one was restored. */
  readonly checkpointRoots: { readonly project: string; readonly source: string; readonly build: string } | null;
}

/** Creates the full set of hooks; the orchestrator owns it. */
export function createHooks() {
  return {
    // setup
    /** All plugins have been applied. */
    initialize: new SyncHook<[]>([]),
    /** Plugins fill in defaults (build directory, commands). The result is validated, then frozen. */
    resolveConfig: new AsyncSeriesWaterfallHook<[ConfigDraft, ConfigEnv]>(['config', 'env']),
    /** The frozen config. */
    configResolved: new SyncHook<[ResolvedConfig]>(['config']),
    /**
     * A run begins (`prepare`, `restore` or `build`; an orchestrator may run
     * several): plugins create the run's own state here, e.g. in a
     * `WeakMap<BuildContext, State>` or `context.data`, instead of resetting
     * closures of `apply()` by hand. Nothing is scanned or restored yet.
     */
    run: new SyncHook<[BuildContext]>(['context']),
    /**
     * Plugins add keyed entries; a checkpoint is usable only when every entry matches.
     * Runs while the sources are scanned: `context.sources` is not set yet.
     */
    fingerprint: new AsyncSeriesWaterfallHook<[Fingerprint, BuildContext]>(['fingerprint', 'context']),

    // checkpoint selection
    /**
     * Finds the checkpoint to restore. The core taps last ({@link Stage.Core}) and searches the configured store.
     * A tap that finds one returns `selectCheckpoint({ ref, manifest }, context)`; one that finds none may return `{ reason }`.
     */
    findCheckpoint: new AsyncSeriesBailHook<[CheckpointQuery, BuildContext], CheckpointLookup | undefined>(['query', 'context']),
    /** A plugin returns a {@link Refusal} to refuse the chosen checkpoint; the build goes on in full. `context.changes` is known. */
    validateCheckpoint: new AsyncSeriesBailHook<[CheckpointManifest, BuildContext], Refusal | undefined>(['manifest', 'context']),
    /** Plugins may widen the exact change set (never narrow it). Runs before the restore, so widened paths get new times too. */
    changes: new AsyncSeriesWaterfallHook<[ChangeSet, BuildContext]>(['changes', 'context']),

    // restore
    /** Before any file is written; plugins may drop entries from the plan. */
    beforeRestore: new AsyncSeriesHook<[RestorePlan, BuildContext]>(['plan', 'context']),
    /**
     * Transforms of restored bytes, keyed by the transform name recorded at capture. A tap
     * returns new bytes and never changes `content` in place: one blob may back several files.
     */
    restoreFile: new HookMap((_key: string) => new AsyncSeriesWaterfallHook<[Buffer, FileTransformInfo]>(['content', 'info'])),
    /** State written and every time replayed; repair tool databases here. */
    afterRestore: new AsyncSeriesHook<[RestoreResult, BuildContext]>(['result', 'context']),

    // build
    /** Runs the build system's configure step, if it has one. A tap that ran it returns a {@link StepResult}. */
    configure: new AsyncSeriesBailHook<[BuildContext], StepResult | undefined>(['context']),
    /** Just before the build step (e.g. to snapshot the tree). */
    beforeBuild: new AsyncSeriesHook<[BuildContext]>(['context']),
    /** Runs the build. Exactly one plugin must return a {@link StepResult}. */
    build: new AsyncSeriesBailHook<[BuildContext], StepResult | undefined>(['context']),
    /**
     * `orchestrate explain` and `build --dry-run`, in place of `beforeBuild` and `build`: the
     * build-system plugin asks its tool what it would build in this tree and why (a dry run where
     * the tool has one, `make -n`, `ninja -n -d explain`; else the build itself, since the tree is a
     * scratch copy thrown away afterwards). Runs after the restore and `configure`, as a build would,
     * in a scratch copy of the user's tree with a read-only store. Return `undefined` to let another
     * plugin answer; when none does, the explanation says the tool was not asked.
     */
    explainBuild: new AsyncSeriesBailHook<[BuildContext], BuildExplanation | undefined>(['context']),

    // capture
    /** Plugins choose the files kept as state. */
    selectState: new AsyncSeriesWaterfallHook<[StateSelection, BuildContext]>(['selection', 'context']),
    /** Transforms of captured bytes, keyed by the transform name in the selection. */
    captureFile: new HookMap((_key: string) => new AsyncSeriesWaterfallHook<[Buffer, FileTransformInfo]>(['content', 'info'])),
    /**
     * The manifest before it is saved; plugins may add entries to `manifest.data`, and
     * blobs they stored with `context.store.putBlob` to `manifest.attachments`.
     */
    afterCapture: new AsyncSeriesHook<[CheckpointManifest, BuildContext]>(['manifest', 'context']),

    // outputs
    /**
     * Plugins name the build's outputs: what a user ships or runs (executables,
     * libraries, archives), which `orchestrate verify` compares byte for byte
     * between a checkpoint build and a clean one. Runs after the build, only
     * when the run was asked for its outputs; the config's `outputs` globs,
     * when given, replace what the plugins select.
     */
    selectOutputs: new AsyncSeriesWaterfallHook<[OutputSelection, BuildContext]>(['selection', 'context']),

    // end
    /** The run succeeded. */
    done: new AsyncSeriesHook<[BuildReport, BuildContext]>(['report', 'context']),
    /** The run failed. */
    failed: new SyncHook<[Error]>(['error']),
    /** Always runs last (locks, temporary files). */
    shutdown: new AsyncSeriesHook<[]>([]),
  };
}

export type OrchestratorHooks = ReturnType<typeof createHooks>;

type TapOnly<H> =
  H extends HookMap<infer Inner>
    ? { for(key: string): TapOnly<Inner> }
    : Pick<H, Extract<keyof H, 'tap' | 'tapAsync' | 'tapPromise' | 'intercept'>>;

/** The hooks as plugins see them: tap methods only. */
export type PluginHooks = { readonly [K in keyof OrchestratorHooks]: TapOnly<OrchestratorHooks[K]> };

/** Names of all hooks, in lifecycle order. */
export type HookName = keyof OrchestratorHooks;
