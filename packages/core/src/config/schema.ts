/**
 * The config's schema: the single source of its types and its validation.
 */
import * as z from 'zod';
import type { Plugin } from '../plugin.js';

/** A plugin as a JSON or YAML config names it: the package, or `[package, options]`. */
const pluginSpecifier = z.union([z.string().min(1), z.tuple([z.string().min(1), z.record(z.string(), z.unknown())])]);

type PluginEntryInput = unknown;
const pluginEntry: z.ZodType<PluginEntryInput> = z.lazy(() =>
  z.union([
    pluginSpecifier,
    z.custom<Plugin>(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Plugin).apply === 'function',
      { message: 'expected a plugin object with name and apply(), a package name, or [package, options]' },
    ),
    z.literal(false),
    z.null(),
    z.undefined(),
    z.array(pluginEntry),
  ]),
);

/** The user's config, every key optional. */
export const userConfigSchema = z.strictObject({
  /** Project name; identifies the project's checkpoints. @default the git origin URL, else the directory name */
  name: z.string().min(1).optional(),
  /** Plugins: objects, package names, `[package, options]`, nested arrays; falsy entries are skipped. */
  plugins: z.array(pluginEntry).optional(),
  /** Source directory, relative to the project directory. @default "." */
  sourceDir: z.string().min(1).optional(),
  /** Build directory, relative to the project directory. @default set by the build-system plugin, else "." */
  buildDir: z.string().min(1).optional(),
  /** Names of environment variables whose values are part of the fingerprint. */
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')).optional(),
  /** Store directory. @default $ORCHESTRATE_STORE, else $XDG_CACHE_HOME/orchestrate */
  store: z.string().min(1).optional(),
  /**
   * Read-only stores searched below the store (a previous build's output, a
   * mounted cache), relative to the project directory; what they serve is
   * copied into the store, unless `storeFromInPlace`.
   */
  storeFrom: z.array(z.string().min(1)).optional(),
  /** Leave what `storeFrom` serves in place: new checkpoints name its blobs (a chain, as Nix outputs are). @default false */
  storeFromInPlace: z.boolean().optional(),
  /** Globs of source files outside git (relative to the source directory). @default ["**"] */
  include: z.array(z.string()).optional(),
  /** Globs never taken as sources. */
  exclude: z.array(z.string()).optional(),
  /**
   * Globs (relative to the build directory) of the outputs `orchestrate verify`
   * compares between a checkpoint build and a clean build; when given, they
   * replace the build-system plugin's defaults (its executables, libraries and archives).
   * @default the plugins' selection
   */
  outputs: z.array(z.string().min(1)).optional(),
  /** Checkpoints kept per project by `gc` and after each save. @default 5 */
  keep: z.number().int().positive().optional(),
  /**
   * Bounds on a checkpoint's manifest: one that lists more entries (state files
   * and sources) or more state bytes is refused, and the build goes on in full.
   * @default { "entries": 2000000, "bytes": 68719476736 } (64 GiB)
   */
  limits: z
    .strictObject({
      entries: z.number().int().positive().optional(),
      bytes: z.number().int().positive().optional(),
    })
    .optional(),
});

/** The config as written by the user. */
export type UserConfig = Omit<z.input<typeof userConfigSchema>, 'plugins'> & {
  plugins?: readonly unknown[];
};

/** The config while plugins fill in their defaults (`resolveConfig`). */
export interface ConfigDraft {
  name?: string | undefined;
  sourceDir?: string | undefined;
  buildDir?: string | undefined;
  env?: string[] | undefined;
  store?: string | undefined;
  storeFrom?: string[] | undefined;
  storeFromInPlace?: boolean | undefined;
  include?: string[] | undefined;
  exclude?: string[] | undefined;
  outputs?: string[] | undefined;
  keep?: number | undefined;
  limits?: { entries?: number | undefined; bytes?: number | undefined } | undefined;
}

/** What `resolveConfig` taps know about the run. */
export interface ConfigEnv {
  readonly projectDir: string;
  readonly configFile: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The frozen config every later hook sees. */
export interface ResolvedConfig {
  /** Project identity used to find checkpoints. */
  readonly project: string;
  readonly projectDir: string;
  readonly configFile: string | undefined;
  /** Absolute source directory. */
  readonly sourceDir: string;
  /** Absolute build directory. */
  readonly buildDir: string;
  readonly env: readonly string[];
  readonly store: string;
  /** Absolute read-only stores below {@link store}, searched in order. */
  readonly storeFrom: readonly string[];
  readonly storeFromInPlace: boolean;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Globs of the outputs `verify` compares, relative to the build directory; `undefined`: the plugins' selection. */
  readonly outputs: readonly string[] | undefined;
  readonly keep: number;
  /** Bounds on a checkpoint's manifest (see the config's `limits`). */
  readonly limits: { readonly entries: number; readonly bytes: number };
  readonly plugins: readonly Plugin[];
}

export const DEFAULT_KEEP = 5;

/** Store locations given on the command line or by the environment, which win over the config. */
export interface StoreOverrides {
  /** `--store DIR` */
  readonly store?: string | undefined;
  /** `--store-from DIR`, repeatable */
  readonly storeFrom?: readonly string[] | undefined;
  /** `--store-from-in-place` */
  readonly storeFromInPlace?: boolean | undefined;
}

/** Default bounds on a checkpoint's manifest. */
export const DEFAULT_LIMITS = { entries: 2_000_000, bytes: 64 * 1024 ** 3 } as const;
