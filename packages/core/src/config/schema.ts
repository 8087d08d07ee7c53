/**
 * The config's schema: the single source of its types and its validation.
 */
import * as z from 'zod';
import type { Plugin } from '../plugin.js';

/** A size: bytes, or a number with a unit (`kB`, `MB`, `GB`, `KiB`, `MiB`, `GiB`, `TB`, `TiB`). */
export const SIZE = /^\s*\d+(\.\d+)?\s*([kKMGT]i?B|B)?\s*$/;

/** A plugin as a JSON or YAML config names it: the package, or `[package, options]`. */
const pluginSpecifier = z.union([z.string().min(1), z.tuple([z.string().min(1), z.record(z.string(), z.unknown())])]);

type PluginEntryInput = unknown;
const pluginEntry: z.ZodType<PluginEntryInput> = z.lazy(() =>
  z.union([
    pluginSpecifier,
    z.custom<Plugin>((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Plugin).apply === 'function', {
      message: 'expected a plugin object with name and apply(), a package name, or [package, options]',
    }),
    z.literal(false),
    z.null(),
    z.undefined(),
    z.array(pluginEntry),
  ]),
);

/** The user's config, every key optional. */
export const userConfigSchema = z.strictObject({
  /** Project name; identifies the project's checkpoints. `--name` overrides it. @default the git origin URL, else the directory name */
  name: z.string().min(1).optional(),
  /** Plugins: objects, package names, `[package, options]`, nested arrays; falsy entries are skipped. */
  plugins: z.array(pluginEntry).optional(),
  /** Source directory, relative to the project directory. @default "." */
  sourceDir: z.string().min(1).optional(),
  /** Build directory, relative to the project directory. @default set by the build-system plugin, else "." */
  buildDir: z.string().min(1).optional(),
  /** Names of environment variables whose values are part of the fingerprint. */
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')).optional(),
  /** Store directory. @default $ORCHESTRATE_STORE, else orchestrate/ in $XDG_CACHE_HOME, ~/.cache (not in a Nix build, nor under a missing or read-only HOME) or $TMPDIR */
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
   * How a checkpoint records times: `exact` keeps every file's ns mtime as a
   * value (cargo's fingerprints compare some recorded mtimes as values);
   * `flat` records every time of the build as one fixed time (earlier ones,
   * like a Nix unpack's 1 s, as they are), so the same sources built twice
   * give the same checkpoint (see `checkpoint/flat-times.ts`). Overridden by
   * `--times` and `ORCHESTRATE_TIMES`.
   * @default "flat" in a Nix build (NIX_BUILD_TOP set), else "exact"
   */
  times: z.enum(['exact', 'flat']).optional(),
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
  /**
   * Bound on the local store's size: after each save, the least recently
   * used checkpoints (of every project; a restore counts as a use) are removed
   * with the blobs only they name until the store is under it. Bytes, or a
   * string with a unit (`"2GB"`, `"500MiB"`). The checkpoint just saved always
   * stays. Overridden by `--max-size` and `ORCHESTRATE_MAX_SIZE`.
   * @default no bound
   */
  maxSize: z
    .union([z.number().int().positive(), z.string().regex(SIZE, 'expected bytes, or a number with a unit: "500MB", "2GiB"')])
    .optional(),
  /**
   * A remote store shared between machines: `oci://host/repository` (an OCI
   * registry), `http(s)://host/prefix` (a Bazel-style HTTP cache); see
   * docs/remote-stores.md. Lookups ask it only when no local checkpoint fits.
   * Overridden by `--remote` and `ORCHESTRATE_REMOTE`.
   * @default none
   */
  remote: z.string().min(1).optional(),
  /**
   * `read`: restore from the remote, never write to it; `read-write`: also
   * push every checkpoint saved, under the build's scope. Overridden by
   * `--remote-mode` and `ORCHESTRATE_REMOTE_MODE`.
   * @default "read"
   */
  remoteMode: z.enum(['read', 'read-write']).optional(),
  /**
   * The trust scope this build reads and writes (a branch, `pr-<n>`).
   * Overridden by `--scope` and `ORCHESTRATE_SCOPE`.
   * @default derived from the CI's variables (GitHub Actions, GitLab CI); none for a local build
   */
  scope: z.string().min(1).optional(),
  /**
   * Scopes whose checkpoints this build also restores, besides its own.
   * @default the default branch: $ORCHESTRATE_DEFAULT_BRANCH, GitLab's $CI_DEFAULT_BRANCH, else "main"
   */
  trustedScopes: z.array(z.string().min(1)).optional(),
  /**
   * An ed25519 private key (PEM, or the base64 of its seed) that signs pushed
   * checkpoints, relative to the project directory. `ORCHESTRATE_SIGNING_KEY`
   * (the key) and `ORCHESTRATE_SIGNING_KEY_FILE` win over it.
   */
  signingKeyFile: z.string().min(1).optional(),
  /**
   * ed25519 public keys (base64 of the raw key, or PEM files when the entry
   * starts with `/` or `.`, relative to the project directory). When any is
   * configured (here or in `ORCHESTRATE_VERIFY_KEYS`), remote checkpoints not
   * signed by one of them are ignored, with the reason printed.
   */
  verifyKeys: z.array(z.string().min(1)).optional(),
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
  times?: TimeMode | undefined;
  limits?: { entries?: number | undefined; bytes?: number | undefined } | undefined;
  maxSize?: number | string | undefined;
  remote?: string | undefined;
  remoteMode?: RemoteMode | undefined;
  scope?: string | undefined;
  trustedScopes?: string[] | undefined;
  signingKeyFile?: string | undefined;
  verifyKeys?: string[] | undefined;
}

/** Whether a build may write to the remote; see the config's `remoteMode`. */
export type RemoteMode = 'read' | 'read-write';
/** Every {@link RemoteMode}. */
export const REMOTE_MODES: readonly RemoteMode[] = ['read', 'read-write'];

/** How a checkpoint records times; see the config's `times`. */
export type TimeMode = 'exact' | 'flat';
/** Every {@link TimeMode}. */
export const TIME_MODES: readonly TimeMode[] = ['exact', 'flat'];

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
  /** How this run's checkpoint records times (see the config's `times`). */
  readonly times: TimeMode;
  /** Bounds on a checkpoint's manifest (see the config's `limits`). */
  readonly limits: { readonly entries: number; readonly bytes: number };
  /** Bound on the local store's bytes (see the config's `maxSize`), or undefined. */
  readonly maxSize: number | undefined;
  /** The remote store's URL, or undefined (see the config's `remote`). */
  readonly remote: string | undefined;
  readonly remoteMode: RemoteMode;
  /** This build's trust scope and where it came from, or undefined (a local build: it writes no scope). */
  readonly scope: { readonly scope: string; readonly source: string } | undefined;
  /** Scopes read besides {@link scope}. */
  readonly trustedScopes: readonly string[];
  /** Absolute path of the signing key file, when configured (the environment's key wins; see `loadKeys`). */
  readonly signingKeyFile: string | undefined;
  /** Verification keys as configured (keys, or absolute paths of key files). */
  readonly verifyKeys: readonly string[];
  readonly plugins: readonly Plugin[];
}

export const DEFAULT_KEEP = 5;

/** Store locations and remote settings given on the command line, which win over the environment and the config. */
export interface StoreOverrides {
  /** `--store DIR` */
  readonly store?: string | undefined;
  /** `--store-from DIR`, repeatable */
  readonly storeFrom?: readonly string[] | undefined;
  /** `--store-from-in-place` */
  readonly storeFromInPlace?: boolean | undefined;
  /** `--max-size` */
  readonly maxSize?: string | undefined;
  /** `--remote URL` */
  readonly remote?: string | undefined;
  /** `--remote-mode read|read-write` */
  readonly remoteMode?: string | undefined;
  /** `--scope NAME` */
  readonly scope?: string | undefined;
}

/** Default bounds on a checkpoint's manifest. */
export const DEFAULT_LIMITS = { entries: 2_000_000, bytes: 64 * 1024 ** 3 } as const;
