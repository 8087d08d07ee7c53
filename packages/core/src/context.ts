/**
 * The read-only view of a run that every hook receives.
 */
import type { CheckpointManifest, CheckpointRef } from './checkpoint/manifest.js';
import { relativeInside } from './checkpoint/paths.js';
import type { ResolvedConfig } from './config/schema.js';
import { BuildToolError, InterruptedError } from './errors.js';
import type { Logger } from './logger.js';
import { runProcess } from './process.js';
import { NO_CHANGES, type ChangeSet, type SourceEntry } from './sources/manifest.js';
import type { CheckpointStore } from './store/store.js';

/** Options of {@link BuildContext.exec}. */
export interface ExecOptions {
  /** @default the build directory */
  cwd: string;
  /** Added to (and overriding) the build's environment, {@link BuildContext.env}. */
  env?: Record<string, string | undefined>;
  /** Do not throw on a non-zero exit; the result says how it ended. */
  reject?: boolean;
  /** Log each output line at this level (default `info`); `false` keeps output quiet. */
  echo?: 'info' | 'debug' | false;
}

/** What {@link BuildContext.exec} returns. */
export interface ExecResult {
  command: string;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as produced. */
  all: string;
}

/** Lines of output kept in a {@link BuildToolError}. */
const TAIL_LINES = 30;

/** `full`: everything is built; `incremental`: a checkpoint was restored. */
export type BuildMode = 'full' | 'incremental';

/** The working tree as scanned before any checkpoint was looked at. */
export interface WorkingTree {
  /** Every source found (tracked, and untracked but not ignored), by path relative to the source directory. */
  readonly sources: ReadonlyMap<string, SourceEntry>;
  /**
   * The sources no version control tracks (git's untracked files, every file
   * outside git): a file of these the build writes is an output, e.g. one
   * built by hand before orchestrate's first run.
   */
  readonly untracked: ReadonlySet<string>;
}

/** The checkpoint a run considers, with the working tree as it sees it. Immutable; made by `selectCheckpoint`. */
export interface CheckpointChoice {
  readonly ref: CheckpointRef;
  readonly manifest: CheckpointManifest;
  /** The working tree's sources less the checkpoint's state paths (files the checkpoint holds as build output). */
  readonly sources: ReadonlyMap<string, SourceEntry>;
  /** The exact change set from the checkpoint's sources to {@link sources}. */
  readonly changes: ChangeSet;
}

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
  /** The working tree as scanned, once scanned. */
  readonly tree: WorkingTree | undefined;
  /** The sources: the working tree's, less the state paths of the checkpoint considered or restored. */
  readonly sources: ReadonlyMap<string, SourceEntry> | undefined;
  /** The change set from the checkpoint considered or restored to the working tree (every source added for a full build). */
  readonly changes: ChangeSet | undefined;
  /** The checkpoint being (or that was) restored. */
  readonly checkpoint: CheckpointManifest | undefined;
  /** Scratch space for plugins, keyed by plugin name. */
  readonly data: Map<string, unknown>;
  /**
   * A state path (relative to the build directory) as a path relative to the
   * source directory, or `undefined` when it lies outside the source directory.
   */
  readonly sourcePathOf: (statePath: string) => string | undefined;
  /** A source path as a path relative to the build directory, or `undefined` when it lies outside it. */
  readonly statePathOf: (sourcePath: string) => string | undefined;
  /**
   * Runs a tool with orchestrate's one process runner (`runProcess`), in the
   * build directory and the build's environment, each output line logged to
   * `logger` as it comes; cancelled by {@link signal} (then throws an
   * `InterruptedError`), and a failure throws a `BuildToolError` with the
   * command line and the tail of its output unless `reject` is `false`.
   */
  exec(file: string, args: readonly string[], options?: Partial<ExecOptions> & { logger?: Logger }): Promise<ExecResult>;
}

/** Maps paths between two directories, one inside (or equal to) the other; `undefined` when a path lies outside the target. */
function prefixMapper(from: string, to: string): (path: string) => string | undefined {
  const down = relativeInside(to, from); // `from` lies inside `to`: prepend
  if (down !== undefined) return down === '' ? (p) => p : (p) => `${down}/${p}`;
  const up = relativeInside(from, to); // `to` lies inside `from`: strip
  if (up !== undefined) return (p) => (p.startsWith(`${up}/`) ? p.slice(up.length + 1) : undefined);
  return () => undefined;
}

/**
 * The orchestrator's implementation of {@link BuildContext}. Its run state
 * (mode, reason, the checkpoint, the sources and the change set) changes only
 * through the methods below, in lifecycle order.
 */
export class RunContext implements BuildContext {
  readonly config: ResolvedConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly store: CheckpointStore;
  readonly data = new Map<string, unknown>();
  readonly sourcePathOf: (statePath: string) => string | undefined;
  readonly statePathOf: (sourcePath: string) => string | undefined;
  #mode: BuildMode = 'full';
  #reason: string | null = null;
  #tree: WorkingTree | undefined;
  #choice: CheckpointChoice | undefined;
  #changes: ChangeSet | undefined;

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
    this.sourcePathOf = prefixMapper(this.buildDir, this.sourceDir);
    this.statePathOf = prefixMapper(this.sourceDir, this.buildDir);
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
  get mode(): BuildMode {
    return this.#mode;
  }
  get reason(): string | null {
    return this.#reason;
  }
  get tree(): WorkingTree | undefined {
    return this.#tree;
  }
  get sources(): ReadonlyMap<string, SourceEntry> | undefined {
    return this.#choice?.sources ?? this.#tree?.sources;
  }
  get changes(): ChangeSet | undefined {
    return this.#changes;
  }
  get checkpoint(): CheckpointManifest | undefined {
    return this.#choice?.manifest;
  }

  /** The working tree was scanned. */
  scanned(tree: WorkingTree): void {
    this.#tree = tree;
  }

  /** The run considers restoring `choice`: the hooks from `validateCheckpoint` on see it. */
  consider(choice: CheckpointChoice): void {
    this.#choice = choice;
    this.#changes = choice.changes;
  }

  /** Plugins widened the change set (`changes` hook). */
  widen(changes: ChangeSet): void {
    this.#changes = changes;
  }

  /** The considered checkpoint was written back: the build is incremental. */
  restored(): void {
    this.#mode = 'incremental';
    this.#reason = null;
  }

  /** No checkpoint is used: every source counts as added, for `reason`. */
  buildInFull(reason: string): void {
    this.#mode = 'full';
    this.#reason = reason;
    this.#choice = undefined;
    this.#changes = { ...NO_CHANGES, added: [...(this.#tree?.sources.keys() ?? [])] };
  }

  async exec(file: string, args: readonly string[], options: Partial<ExecOptions> & { logger?: Logger } = {}): Promise<ExecResult> {
    const logger = options.logger ?? this.logger;
    const echo = options.echo ?? 'info';
    // Whole lines to the logger, however the output is chunked.
    let pending = '';
    const onOutput =
      echo === false
        ? undefined
        : (text: string): void => {
            const lines = (pending + text).split('\n');
            pending = lines.pop() ?? '';
            for (const line of lines) if (line.length > 0) logger[echo](line);
          };
    const result = await runProcess(file, args, {
      cwd: options.cwd ?? this.buildDir,
      env: { ...this.env, ...options.env },
      signal: this.signal,
      interleaved: true,
      ...(onOutput ? { onOutput } : {}),
    });
    if (echo !== false && pending.length > 0) logger[echo](pending);
    // Ctrl-C signals the whole foreground process group: the tool may end of it (killed by SIGINT, or
    // exiting with an error as make does when its job was interrupted) before this process has handled its
    // own SIGINT. A failed tool therefore gives the signal handler a moment before the failure counts.
    if (result.failed && !this.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
    if (result.canceled || this.signal.aborted || result.signal === 'SIGINT') throw new InterruptedError('SIGINT');
    const out: ExecResult = {
      command: result.command,
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      all: result.error ? [result.all, result.error.message].filter(Boolean).join('\n') : result.all,
    };
    if (result.failed && options.reject !== false) {
      const tail = out.all.split('\n').slice(-TAIL_LINES).join('\n');
      throw new BuildToolError(result.command, result.exitCode, tail);
    }
    return out;
  }
}
