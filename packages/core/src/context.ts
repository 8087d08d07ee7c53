/**
 * The read-only view of a run that every hook receives.
 */
import type { CheckpointManifest } from './checkpoint/manifest.js';
import type { ResolvedConfig } from './config/schema.js';
import { runCommand, type ExecOptions, type ExecResult } from './exec.js';
import type { Logger } from './logger.js';
import type { ChangeSet, SourceEntry } from './sources/manifest.js';
import type { CheckpointStore } from './store/store.js';

/** `full`: everything is built; `incremental`: a checkpoint was restored. */
export type BuildMode = 'full' | 'incremental';

export interface BuildContext {
  readonly config: ResolvedConfig;
  readonly projectDir: string;
  readonly sourceDir: string;
  readonly buildDir: string;
  /** The environment the build tools run with. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** Aborted on Ctrl-C; pass it to long work. */
  readonly signal: AbortSignal;
  readonly store: CheckpointStore;
  /** `full` until a checkpoint has been restored. */
  readonly mode: BuildMode;
  /** Why the build is full; `null` for an incremental build. */
  readonly reason: string | null;
  /** The working tree's sources, once scanned. */
  readonly sources: ReadonlyMap<string, SourceEntry> | undefined;
  /**
   * The sources no version control tracks (git's untracked files, every file
   * outside git): a file of these the build writes is an output, e.g. one
   * built by hand before orchestrate's first run.
   */
  readonly untrackedSources: ReadonlySet<string> | undefined;
  /** The change set from the chosen checkpoint to the working tree, once known. */
  readonly changes: ChangeSet | undefined;
  /** The checkpoint being (or that was) restored. */
  readonly checkpoint: CheckpointManifest | undefined;
  /** Scratch space for plugins, keyed by plugin name. */
  readonly data: Map<string, unknown>;
  /** Runs a tool in the build environment with output streamed to `logger`; throws a BuildToolError on failure. */
  exec(file: string, args: readonly string[], options?: Partial<ExecOptions> & { logger?: Logger }): Promise<ExecResult>;
}

/** The orchestrator's mutable implementation of {@link BuildContext}. */
export class RunContext implements BuildContext {
  readonly config: ResolvedConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly store: CheckpointStore;
  readonly data = new Map<string, unknown>();
  mode: BuildMode = 'full';
  reason: string | null = null;
  sources: ReadonlyMap<string, SourceEntry> | undefined;
  untrackedSources: ReadonlySet<string> | undefined;
  changes: ChangeSet | undefined;
  checkpoint: CheckpointManifest | undefined;

  constructor(options: {
    config: ResolvedConfig;
    env: Readonly<Record<string, string | undefined>>;
    logger: Logger;
    signal: AbortSignal;
    store: CheckpointStore;
  }) {
    this.config = options.config;
    this.env = options.env;
    this.logger = options.logger;
    this.signal = options.signal;
    this.store = options.store;
  }

  get projectDir(): string {
    return this.config.projectDir;
  }
  get sourceDir(): string {
    return this.config.sourceDir;
  }
  get buildDir(): string {
    return this.config.buildDir;
  }

  exec(file: string, args: readonly string[], options: Partial<ExecOptions> & { logger?: Logger } = {}): Promise<ExecResult> {
    return runCommand(file, args, {
      cwd: options.cwd ?? this.buildDir,
      env: { ...this.env, ...options.env },
      ...(options.reject === undefined ? {} : { reject: options.reject }),
      ...(options.echo === undefined ? {} : { echo: options.echo }),
      logger: options.logger ?? this.logger,
      signal: this.signal,
    });
  }
}
