/**
 * From the user's config and the plugins' defaults to the frozen
 * {@link ResolvedConfig}: absolute directories, the store location and the
 * project identity.
 */
import { homedir } from 'node:os';
import { basename, delimiter, join, relative, resolve } from 'node:path';
import { spawnCapture } from '../process.js';
import type { Plugin } from '../plugin.js';
import { DEFAULT_KEEP, DEFAULT_LIMITS, type ConfigDraft, type ResolvedConfig, type StoreOverrides } from './schema.js';

/** The default store: `$ORCHESTRATE_STORE`, else `$XDG_CACHE_HOME/orchestrate`, else `~/.cache/orchestrate`. */
export function defaultStoreDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env['ORCHESTRATE_STORE']) return resolve(env['ORCHESTRATE_STORE']);
  const cache = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(cache, 'orchestrate');
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
    spawnCapture('git', ['config', '--get', 'remote.origin.url'], { cwd: projectDir }),
    spawnCapture('git', ['rev-parse', '--show-toplevel'], { cwd: projectDir }),
  ]);
  if (origin.exitCode === 0 && origin.stdout.trim()) {
    const sub = top.exitCode === 0 ? relative(top.stdout.trim(), projectDir) : '';
    return sub ? `${origin.stdout.trim()}#${sub}` : origin.stdout.trim();
  }
  return basename(projectDir);
}

export interface ResolveOptions {
  draft: ConfigDraft;
  projectDir: string;
  configFile: string | undefined;
  plugins: readonly Plugin[];
  env: Readonly<Record<string, string | undefined>>;
  /** Store locations from the command line, which win over everything. */
  stores?: StoreOverrides | undefined;
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
    project: await projectIdentity(projectDir, draft.name),
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
          ? options.env['ORCHESTRATE_STORE_FROM'].split(delimiter).filter(Boolean).map((dir) => resolve(dir))
          : (draft.storeFrom ?? []).map((dir) => resolve(projectDir, dir)),
    ),
    storeFromInPlace: stores.storeFromInPlace ?? draft.storeFromInPlace ?? false,
    include: Object.freeze([...(draft.include ?? [])]),
    exclude: Object.freeze([...(draft.exclude ?? [])]),
    outputs: draft.outputs === undefined ? undefined : Object.freeze([...draft.outputs]),
    keep: draft.keep ?? DEFAULT_KEEP,
    limits: Object.freeze({
      entries: draft.limits?.entries ?? DEFAULT_LIMITS.entries,
      bytes: draft.limits?.bytes ?? DEFAULT_LIMITS.bytes,
    }),
    plugins: Object.freeze([...options.plugins]),
  };
  return Object.freeze(config);
}
