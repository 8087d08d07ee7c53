/**
 * The cargo plugin's options and the `cargo build` command line they give.
 */

/** Options of the {@link cargo} plugin factory. */
export interface CargoOptions {
  /** Cargo profile (`--profile`). @default "dev" */
  readonly profile?: string;
  /** Features to enable (`--features a,b`); `pkg/feat` names are passed through. @default [] */
  readonly features?: readonly string[];
  /** `--all-features`. @default false */
  readonly allFeatures?: boolean;
  /** `--no-default-features`. @default false */
  readonly noDefaultFeatures?: boolean;
  /** Target triple (`--target`); host artifacts (build scripts, proc-macros) are kept too. @default the host */
  readonly target?: string;
  /** `--workspace`: build every member. @default true when `packages` is empty, else false */
  readonly workspace?: boolean;
  /** Packages to build (`-p name` each). @default [] */
  readonly packages?: readonly string[];
  /** `--offline`. @default false */
  readonly offline?: boolean;
  /**
   * Keep rustc's `incremental/` session directories in the checkpoint. Cargo's
   * freshness never reads them; they make an edited crate recompile faster.
   * @default true
   */
  readonly incremental?: boolean;
  /** The cargo executable. @default $CARGO, else "cargo" */
  readonly cargo?: string;
  /** Extra arguments after the ones above, e.g. `["--locked"]`. @default [] */
  readonly args?: readonly string[];
}

/** The options with defaults applied. */
export interface ResolvedCargoOptions {
  readonly profile: string;
  readonly features: readonly string[];
  readonly allFeatures: boolean;
  readonly noDefaultFeatures: boolean;
  readonly target: string | undefined;
  readonly workspace: boolean;
  readonly packages: readonly string[];
  readonly offline: boolean;
  readonly incremental: boolean;
  readonly cargo: string | undefined;
  readonly args: readonly string[];
}

/** Thrown for options that cargo would reject or that name nothing. */
export class CargoOptionsError extends TypeError {
  readonly code = 'ERR_CARGO_OPTIONS';
  constructor(message: string) {
    super(`@orchestrate/plugin-cargo: ${message}`);
    this.name = 'CargoOptionsError';
  }
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_\-./]*$/;

/** Applies defaults and checks the options; throws {@link CargoOptionsError}. */
export function resolveCargoOptions(options: CargoOptions = {}): ResolvedCargoOptions {
  const profile = options.profile ?? 'dev';
  if (!/^[A-Za-z0-9_-]+$/.test(profile)) throw new CargoOptionsError(`profile '${profile}' is not a profile name`);
  for (const f of options.features ?? []) {
    if (!NAME.test(f)) throw new CargoOptionsError(`feature '${f}' is not a feature name`);
  }
  for (const p of options.packages ?? []) {
    if (!NAME.test(p)) throw new CargoOptionsError(`package '${p}' is not a package spec`);
  }
  if (options.target !== undefined && !/^[A-Za-z0-9_.\-/]+$/.test(options.target)) {
    throw new CargoOptionsError(`target '${options.target}' is not a target triple or target file`);
  }
  const packages = [...(options.packages ?? [])];
  return {
    profile,
    features: [...(options.features ?? [])].sort(),
    allFeatures: options.allFeatures ?? false,
    noDefaultFeatures: options.noDefaultFeatures ?? false,
    target: options.target,
    workspace: options.workspace ?? packages.length === 0,
    packages,
    offline: options.offline ?? false,
    incremental: options.incremental ?? true,
    cargo: options.cargo,
    args: [...(options.args ?? [])],
  };
}

/**
 * The directory name of a profile under the build directory: `dev` and `test`
 * build into `debug`, `release` and `bench` into `release`, a custom profile
 * into its own name (cargo `Profiles::get_dir_name`).
 */
export function profileDirName(profile: string): string {
  if (profile === 'dev' || profile === 'test') return 'debug';
  if (profile === 'bench') return 'release';
  return profile;
}

/**
 * The profile directories a build writes, relative to the build directory:
 * `<profile>` for host units, plus `<triple>/<profile>` when cross-compiling.
 * A target given as a `.json` file is named by its file stem, as cargo does.
 */
export function profileDirs(options: Pick<ResolvedCargoOptions, 'profile' | 'target'>): string[] {
  const dir = profileDirName(options.profile);
  if (options.target === undefined) return [dir];
  const triple = options.target.endsWith('.json')
    ? (options.target.split('/').pop() ?? options.target).slice(0, -'.json'.length)
    : options.target;
  return [dir, `${triple}/${dir}`];
}

/** The `cargo build` arguments. `-v` makes cargo print `Fresh`/`Dirty`/`Running` lines for the log and the summary. */
export function buildArgs(options: ResolvedCargoOptions): string[] {
  const args = ['build', '-v'];
  if (options.profile !== 'dev') args.push('--profile', options.profile);
  if (options.workspace) args.push('--workspace');
  for (const p of options.packages) args.push('-p', p);
  if (options.allFeatures) args.push('--all-features');
  if (options.noDefaultFeatures) args.push('--no-default-features');
  if (options.features.length > 0) args.push('--features', options.features.join(','));
  if (options.target !== undefined) args.push('--target', options.target);
  if (options.offline) args.push('--offline');
  args.push(...options.args);
  return args;
}
