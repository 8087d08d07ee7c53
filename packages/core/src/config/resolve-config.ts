/**
 * From the user's config and the plugins' defaults to the frozen
 * {@link ResolvedConfig}: absolute directories, the store location and the
 * project identity.
 */
import { basename, delimiter, join, relative, resolve } from 'node:path';
import { isNixBuild, tryCacheHome } from '../cache-home.js';
import { ConfigError } from '../errors.js';
import { runProcess } from '../process.js';
import type { Plugin } from '../plugin.js';
import { resolveScope, trustedScopes } from '../store/remote/scope.js';
import {
  DEFAULT_KEEP,
  DEFAULT_LIMITS,
  REMOTE_MODES,
  SIZE,
  TIME_MODES,
  type ConfigDraft,
  type RemoteMode,
  type ResolvedConfig,
  type StoreOverrides,
  type TimeMode,
} from './schema.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The default store: `$ORCHESTRATE_STORE`, else `orchestrate/` in the cache
 * home (`$XDG_CACHE_HOME`, else `~/.cache` when HOME is a writable directory
 * and no Nix build is running, else `$TMPDIR`; see `cache-home.ts`). Throws a
 * ConfigError when there is none: a store needs a place.
 */
export function defaultStoreDir(env: Env): string {
  if (env['ORCHESTRATE_STORE']) return resolve(env['ORCHESTRATE_STORE']);
  const home = tryCacheHome(env);
  if (home === undefined) {
    const why = isNixBuild(env)
      ? 'this is a Nix build (NIX_BUILD_TOP is set) and TMPDIR is not a writable directory'
      : 'HOME is unset, missing or read-only, and so is TMPDIR';
    throw new ConfigError(`no directory for the checkpoint store: ${why}`, undefined, {
      hint: "give one with --store, ORCHESTRATE_STORE or the config's 'store'",
    });
  }
  return join(home.dir, 'orchestrate');
}

/**
 * How recorded times are kept: `--times`/`ORCHESTRATE_TIMES`, else the
 * config's `times`, else `flat` in a Nix build and `exact` elsewhere.
 */
export function resolveTimeMode(configured: TimeMode | undefined, override: string | undefined, env: Env): TimeMode {
  const wanted = override ?? env['ORCHESTRATE_TIMES'] ?? undefined;
  if (wanted !== undefined && wanted !== '') {
    if (!(TIME_MODES as readonly string[]).includes(wanted)) {
      throw new ConfigError(`unknown time mode '${wanted}' (from ${override !== undefined ? '--times' : 'ORCHESTRATE_TIMES'})`, undefined, {
        hint: `use one of ${TIME_MODES.map((m) => `'${m}'`).join(', ')}`,
      });
    }
    return wanted as TimeMode;
  }
  return configured ?? (isNixBuild(env) ? 'flat' : 'exact');
}

/**
 * The project's identity, never its absolute path: the config's `name`, else
 * the git origin URL (with the project's path inside the repository), else
 * the directory's name.
 */
export async function projectIdentity(projectDir: string, name: string | undefined): Promise<string> {
  if (name) return name;
  // At once: two short processes on the critical path of every run without a `name`.
  const [origin, top] = await Promise.all([
    runProcess('git', ['config', '--get', 'remote.origin.url'], { cwd: projectDir }),
    runProcess('git', ['rev-parse', '--show-toplevel'], { cwd: projectDir }),
  ]);
  if (origin.exitCode === 0 && origin.stdout.trim()) {
    const sub = top.exitCode === 0 ? relative(top.stdout.trim(), projectDir) : '';
    return sub ? `${origin.stdout.trim()}#${sub}` : origin.stdout.trim();
  }
  return basename(projectDir);
}

const UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** Bytes of a size: a number, or a string like `"2GB"` or `"500MiB"`; throws a ConfigError naming `from` for anything else. */
export function parseSize(value: number | string, from: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  const match = typeof value === 'string' && SIZE.test(value) ? /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value) : null;
  const unit = UNITS[match?.[2] || 'B'];
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!(bytes > 0)) {
    throw new ConfigError(`invalid size '${value}' (from ${from})`, undefined, {
      hint: 'give bytes, or a number with a unit: 500MB, 2GiB',
    });
  }
  return bytes;
}

/** The first of `candidates` that is set (non-empty), with where it came from. */
function firstSet(candidates: readonly [string | undefined, string][]): [string, string] | undefined {
  for (const [value, from] of candidates) if (value !== undefined && value !== '') return [value, from];
  return undefined;
}

/** The remote settings: the command line, else the environment, else the config. */
function resolveRemote(draft: ConfigDraft, stores: StoreOverrides, env: Env, projectDir: string) {
  const remote = firstSet([
    [stores.remote, '--remote'],
    [env['ORCHESTRATE_REMOTE'], 'ORCHESTRATE_REMOTE'],
    [draft.remote, "the config's 'remote'"],
  ]);
  const mode = firstSet([
    [stores.remoteMode, '--remote-mode'],
    [env['ORCHESTRATE_REMOTE_MODE'], 'ORCHESTRATE_REMOTE_MODE'],
    [draft.remoteMode, "the config's 'remoteMode'"],
  ]);
  if (mode !== undefined && !(REMOTE_MODES as readonly string[]).includes(mode[0])) {
    throw new ConfigError(`unknown remote mode '${mode[0]}' (from ${mode[1]})`, undefined, {
      hint: `use one of ${REMOTE_MODES.map((m) => `'${m}'`).join(', ')}`,
    });
  }
  const explicit = firstSet([
    [stores.scope, '--scope'],
    [env['ORCHESTRATE_SCOPE'], 'ORCHESTRATE_SCOPE'],
    [draft.scope, "the config's 'scope'"],
  ]);
  let scope: ResolvedConfig['scope'];
  let trusted: string[];
  try {
    const resolved = resolveScope(env, explicit?.[0]);
    scope = resolved && { scope: resolved.scope, source: explicit?.[1] ?? resolved.source };
    trusted = trustedScopes(env, draft.trustedScopes);
  } catch (error) {
    throw new ConfigError((error as Error).message, undefined, { hint: "a scope is letters, digits, '.', '_', '-' and '/'" });
  }
  const size = firstSet([
    [stores.maxSize, '--max-size'],
    [env['ORCHESTRATE_MAX_SIZE'], 'ORCHESTRATE_MAX_SIZE'],
  ]);
  return {
    remote: remote?.[0],
    remoteMode: (mode?.[0] ?? 'read') as RemoteMode,
    scope,
    trustedScopes: Object.freeze(trusted),
    maxSize:
      size !== undefined
        ? parseSize(size[0], size[1])
        : draft.maxSize !== undefined
          ? parseSize(draft.maxSize, "the config's 'maxSize'")
          : undefined,
    signingKeyFile: draft.signingKeyFile === undefined ? undefined : resolve(projectDir, draft.signingKeyFile),
    // Files (entries starting with '/' or '.') relative to the project directory; keys as they are.
    verifyKeys: Object.freeze(
      (draft.verifyKeys ?? []).map((entry) => (entry.startsWith('/') || entry.startsWith('.') ? resolve(projectDir, entry) : entry)),
    ),
  };
}

export interface ResolveOptions {
  draft: ConfigDraft;
  projectDir: string;
  configFile: string | undefined;
  plugins: readonly Plugin[];
  env: Readonly<Record<string, string | undefined>>;
  /** Store locations from the command line, which win over everything. */
  stores?: StoreOverrides | undefined;
  /** `--name` from the command line: the project's identity, over the config's `name`. */
  nameOverride?: string | undefined;
  /** `--times` from the command line, over `ORCHESTRATE_TIMES` and the config's `times`. */
  timesOverride?: string | undefined;
}

/** Resolves and freezes the config. */
export async function resolveConfig(options: ResolveOptions): Promise<ResolvedConfig> {
  const { draft, projectDir } = options;
  const sourceDir = resolve(projectDir, draft.sourceDir ?? '.');
  const buildDir = resolve(projectDir, draft.buildDir ?? '.');
  let store: string;
  const stores = options.stores ?? {};
  if (stores.store) store = resolve(stores.store);
  else if (options.env['ORCHESTRATE_STORE']) store = resolve(options.env['ORCHESTRATE_STORE']);
  else if (draft.store) store = resolve(projectDir, draft.store);
  else store = defaultStoreDir(options.env);
  const config: ResolvedConfig = {
    project: await projectIdentity(projectDir, options.nameOverride || draft.name),
    projectDir,
    configFile: options.configFile,
    sourceDir,
    buildDir,
    env: Object.freeze([...(draft.env ?? [])]),
    store,
    storeFrom: Object.freeze(
      stores.storeFrom && stores.storeFrom.length > 0
        ? stores.storeFrom.map((dir) => resolve(dir))
        : options.env['ORCHESTRATE_STORE_FROM']
          ? options.env['ORCHESTRATE_STORE_FROM']
              .split(delimiter)
              .filter(Boolean)
              .map((dir) => resolve(dir))
          : (draft.storeFrom ?? []).map((dir) => resolve(projectDir, dir)),
    ),
    storeFromInPlace: stores.storeFromInPlace ?? draft.storeFromInPlace ?? false,
    include: Object.freeze([...(draft.include ?? [])]),
    exclude: Object.freeze([...(draft.exclude ?? [])]),
    outputs: draft.outputs === undefined ? undefined : Object.freeze([...draft.outputs]),
    keep: draft.keep ?? DEFAULT_KEEP,
    times: resolveTimeMode(draft.times, options.timesOverride, options.env),
    limits: Object.freeze({
      entries: draft.limits?.entries ?? DEFAULT_LIMITS.entries,
      bytes: draft.limits?.bytes ?? DEFAULT_LIMITS.bytes,
    }),
    ...resolveRemote(draft, stores, options.env, projectDir),
    plugins: Object.freeze([...options.plugins]),
  };
  return Object.freeze(config);
}
