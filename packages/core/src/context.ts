/**
 * The read-only view of a run that every hook receives.
 */
import type { CheckpointManifest } from './checkpoint/manifest.js';
import type { ResolvedConfig } from './config/schema.js';
import { BuildToolError, InterruptedError } from './errors.js';
import type { Logger } from './logger.js';
import { runProcess } from './process.js';
import type { ChangeSet, SourceEntry } from './sources/manifest.js';
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
  /**
   * Runs a tool with orchestrate's one process runner (`runProcess`), in the
   * build directory and the build's environment, each output line logged to
   * `logger` as it comes; cancelled by {@link signal} (then throws an
   * `InterruptedError`), and a failure throws a `BuildToolError` with the
   * command line and the tail of its output unless `reject` is `false`.
   */
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
