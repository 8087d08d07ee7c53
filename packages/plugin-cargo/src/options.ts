/**
 * The cargo plugin's options and the `cargo build` command line they give.
 * The schema is the single source of the options' type and of their
 * validation (unknown keys are rejected; names cargo would not take too).
 */
import { validatePluginOptions, z } from '@orchestrate/core';

/** The package name, which starts every options error. */
export const PACKAGE_NAME = '@orchestrate/plugin-cargo';

/** A feature (`feat`, `pkg/feat`) or a package name: not an option, no list separator. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_\-./]*$/;

/** The cargo plugin's options, for {@link cargo}; every key optional. */
export const cargoOptionsSchema = z.strictObject({
  /** Cargo profile (`--profile`). @default "dev" */
  profile: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, { error: "a profile name (letters, digits, '-' and '_')" })
    .optional(),
  /** Features to enable (`--features a,b`); `pkg/feat` names are passed through. @default [] */
  features: z.array(z.string().regex(NAME, { error: 'a feature name' })).optional(),
  /** `--all-features`. @default false */
  allFeatures: z.boolean().optional(),
  /** `--no-default-features`. @default false */
  noDefaultFeatures: z.boolean().optional(),
  /** Target triple (`--target`); host artifacts (build scripts, proc-macros) are kept too. @default the host */
  target: z
    .string()
    .regex(/^[A-Za-z0-9_.\-/]+$/, { error: 'a target triple or target file' })
    .optional(),
  /** `--workspace`: build every member. @default true when `packages` is empty, else false */
  workspace: z.boolean().optional(),
  /** Packages to build (`-p name` each). @default [] */
  packages: z.array(z.string().regex(NAME, { error: 'a package spec' })).optional(),
  /** `--offline`. @default false */
  offline: z.boolean().optional(),
  /**
   * Keep rustc's `incremental/` session directories in the checkpoint. Cargo's
   * freshness never reads them; they make an edited crate recompile faster.
   * @default true
   */
  incremental: z.boolean().optional(),
  /**
   * Make the build's outputs path-independent: rustc gets
   * `--remap-path-prefix=<dir>=.` for the workspace root and the build
   * directory (through a `RUSTC_WRAPPER`, which runs yours), so debug info,
   * panic locations and `file!()` name no absolute directory and a checkpoint
   * restores in full at any path. Part of the fingerprint (the directories are
   * not). @default false
   */
  relocatable: z.boolean().optional(),
  /** The cargo executable. @default $CARGO, else "cargo" */
  cargo: z.string().min(1).optional(),
  /** Extra arguments after the ones above, e.g. `["--locked"]`. @default [] */
  args: z.array(z.string()).optional(),
});

/** Arrays as readonly, so that `as const` lists are accepted. */
type ReadonlyArrays<T> = T extends readonly (infer E)[] ? readonly E[] : T;

/** Options of the {@link cargo} plugin factory, as {@link cargoOptionsSchema} takes them. */
export type CargoOptions = {
  readonly [K in keyof z.input<typeof cargoOptionsSchema>]: ReadonlyArrays<z.input<typeof cargoOptionsSchema>[K]>;
};

/** What to suggest for keys that are cargo flags rather than options. */
const SUGGESTIONS: Readonly<Record<string, string>> = {
  release: 'profile: "release"',
  locked: 'args: ["--locked"]',
  frozen: 'args: ["--frozen"]',
};

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
  readonly relocatable: boolean;
  readonly cargo: string | undefined;
  readonly args: readonly string[];
}

/**
 * Checks the options against {@link cargoOptionsSchema} and applies defaults.
 * @throws `PluginOptionsError` (code `ERR_PLUGIN_OPTIONS`) for an unknown option, a value of the wrong type, or a name cargo would not take
 */
export function resolveCargoOptions(userOptions: CargoOptions = {}): ResolvedCargoOptions {
  const options = validatePluginOptions(PACKAGE_NAME, cargoOptionsSchema, userOptions, { suggestions: SUGGESTIONS });
  const profile = options.profile ?? 'dev';
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
    relocatable: options.relocatable ?? false,
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
