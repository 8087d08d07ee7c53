/**
 * Error classes with stable codes. Every error names its subject and, where
 * possible, what to do. Checks across copies of the package use
 * {@link isOrchestrateError}, which relies on a `Symbol.for` brand rather than
 * `instanceof`.
 */

const BRAND = Symbol.for('orchestrate.error');

/** Exit codes of the `orchestrate` CLI, one per failure class. */
export const ExitCode = {
  Ok: 0,
  /** The build tool (make, cmake, ninja, cargo) failed. */
  BuildFailed: 1,
  /** Bad command line or bad config file. */
  Usage: 2,
  /** The store holds data that fails verification, or cannot be written. */
  Store: 3,
  /** A plugin threw, or could not be loaded. */
  Plugin: 4,
  /** Another run holds the tree's lock and `--no-wait` was given. */
  Busy: 5,
  /** `verify`: the checkpoint build's outputs differ from a clean build's. */
  Differs: 6,
  /** Interrupted by SIGINT or SIGTERM (128 + SIGINT). */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface OrchestrateErrorOptions {
  cause?: unknown;
  hint?: string;
}

/** Base class of every error orchestrate throws on purpose. */
export class OrchestrateError extends Error {
  readonly [BRAND] = true;
  /** Stable machine-readable code, e.g. `ERR_CONFIG`. */
  readonly code: string;
  /** What the user can do about it. */
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, exitCode: ExitCode, options: OrchestrateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OrchestrateError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = exitCode;
  }
}

/** True for any orchestrate error, from whichever copy of the package threw it. */
export function isOrchestrateError(value: unknown): value is OrchestrateError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The config file is missing, malformed or invalid; `file` names it. */
export class ConfigError extends OrchestrateError {
  readonly file: string | undefined;
  /** `code` is for subclasses, which name a narrower failure of the config. */
  constructor(message: string, file?: string, options?: OrchestrateErrorOptions, code = 'ERR_CONFIG') {
    super(code, file ? `${file}: ${message}` : message, ExitCode.Usage, options);
    this.name = 'ConfigError';
    this.file = file;
  }
}

export interface PluginOptionsErrorOptions extends OrchestrateErrorOptions {
  /** The config file that gave the options, when they came from one. */
  file?: string | undefined;
  /** The options at fault, as paths (`jobs`, `variables.CC`, `features[0]`). */
  keys?: readonly string[];
}

/**
 * A plugin factory was given options its schema rejects (see
 * `validatePluginOptions`): an unknown key, a value of the wrong type or
 * shape. A config error (exit code 2): the plugin loader adds the config
 * file that gave the options.
 */
export class PluginOptionsError extends ConfigError {
  /** The plugin's package name, e.g. `@orchestrate/plugin-make`. */
  readonly plugin: string;
  /** What is wrong, without the plugin and the file: `unknown option 'release' (known: …)`. */
  readonly reason: string;
  /** The options at fault, as paths (`jobs`, `variables.CC`, `features[0]`). */
  readonly keys: readonly string[];
  constructor(plugin: string, reason: string, options: PluginOptionsErrorOptions = {}) {
    super(`${plugin}: ${reason}`, options.file, options, 'ERR_PLUGIN_OPTIONS');
    this.name = 'PluginOptionsError';
    this.plugin = plugin;
    this.reason = reason;
    this.keys = options.keys ?? [];
  }
}

/** Wrong command-line usage. */
export class UsageError extends OrchestrateError {
  constructor(message: string, options?: OrchestrateErrorOptions) {
    super('ERR_USAGE', message, ExitCode.Usage, options);
    this.name = 'UsageError';
  }
}

/** A plugin named in the config could not be found or has no factory; `file` names the config that names it. */
export class PluginLoadError extends OrchestrateError {
  readonly specifier: string;
  readonly file: string | undefined;
  constructor(specifier: string, message: string, options: OrchestrateErrorOptions & { file?: string | undefined } = {}) {
    const text = `cannot load plugin '${specifier}': ${message}`;
    super('ERR_PLUGIN_LOAD', options.file ? `${options.file}: ${text}` : text, ExitCode.Usage, options);
    this.name = 'PluginLoadError';
    this.specifier = specifier;
    this.file = options.file;
  }
}

/** A plugin's tap threw; attached by the hook interceptor with the plugin's and the hook's names. */
export class PluginError extends OrchestrateError {
  readonly plugin: string;
  readonly hook: string;
  constructor(plugin: string, hook: string, cause: unknown) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    super('ERR_PLUGIN', `plugin '${plugin}' failed in hook '${hook}': ${inner}`, ExitCode.Plugin, { cause });
    this.name = 'PluginError';
    this.plugin = plugin;
    this.hook = hook;
  }
}

/** The build tool exited non-zero. */
export class BuildToolError extends OrchestrateError {
  readonly command: string;
  readonly exitStatus: number | undefined;
  readonly stderrTail: string;
  constructor(command: string, exitStatus: number | undefined, stderrTail: string, options?: OrchestrateErrorOptions) {
    super(
      'ERR_BUILD_TOOL',
      `'${command}' failed${exitStatus === undefined ? '' : ` with exit code ${exitStatus}`}${stderrTail ? `:\n${stderrTail}` : ''}`,
      ExitCode.BuildFailed,
      options,
    );
    this.name = 'BuildToolError';
    this.command = command;
    this.exitStatus = exitStatus;
    this.stderrTail = stderrTail;
  }
}

/** Data in the store fails verification (hash mismatch, schema), or the store cannot be used. */
export class StoreError extends OrchestrateError {
  readonly path: string;
  constructor(path: string, message: string, options?: OrchestrateErrorOptions) {
    super('ERR_STORE', `${path}: ${message}`, ExitCode.Store, options);
    this.name = 'StoreError';
    this.path = path;
  }
}

/** The run was interrupted by a signal. */
export class InterruptedError extends OrchestrateError {
  constructor(signal: string) {
    super('ERR_INTERRUPTED', `interrupted by ${signal}`, ExitCode.Interrupted);
    this.name = 'InterruptedError';
  }
}

/** Another run holds the lock of `dir` and the run was told not to wait (`--no-wait`). */
export class TreeBusyError extends OrchestrateError {
  readonly dir: string;
  readonly pid: number;
  readonly host: string;
  /** The lock file, outside the tree. */
  readonly lockFile: string;
  constructor(dir: string, pid: number, host: string, lockFile: string) {
    super('ERR_BUSY', `'${dir}' is busy: a build is in progress there (pid ${pid} on ${host})`, ExitCode.Busy, {
      hint: `run again without --no-wait (or ORCHESTRATE_NO_WAIT) to wait for it; if no orchestrate runs as pid ${pid} on ${host}, remove '${lockFile}'`,
    });
    this.name = 'TreeBusyError';
    this.dir = dir;
    this.pid = pid;
    this.host = host;
    this.lockFile = lockFile;
  }
}
