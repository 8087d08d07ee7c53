/**
 * Finding and reading the config file with cosmiconfig, and validating it
 * with the schema. Errors name the file, the key and what was expected.
 */
import {
  cosmiconfig,
  cosmiconfigSync,
  defaultLoaders,
  defaultLoadersSync,
  type CosmiconfigResult,
  type Loader,
  type Loaders,
  type LoaderSync,
  type LoadersSync,
} from 'cosmiconfig';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as z from 'zod';
import { ConfigError } from '../errors.js';
import { tryNameConfigFile } from '../plugin-options.js';
import { userConfigSchema } from './schema.js';

/** Where the config is looked for, in order, in the start directory and its parents up to the nearest package.json. */
export const CONFIG_SEARCH_PLACES = [
  'package.json',
  '.orchestraterc',
  '.orchestraterc.json',
  '.orchestraterc.yaml',
  '.orchestraterc.yml',
  '.orchestraterc.js',
  '.orchestraterc.mjs',
  'orchestrate.config.ts',
  'orchestrate.config.mjs',
  'orchestrate.config.js',
  'orchestrate.config.json',
  'orchestrate.config.yaml',
  'orchestrate.config.yml',
];

export interface LoadedConfig {
  /** The validated config (plugins not yet loaded). */
  readonly config: z.output<typeof userConfigSchema>;
  readonly file: string;
  /** The directory of the config file: the project directory. */
  readonly dir: string;
}

/** Formats the first schema issues as `key 'a.b': message`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const key = issue.path.length > 0 ? `key '${issue.path.join('.')}': ` : '';
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => `'${[...issue.path, k].join('.')}'`).join(', ');
        return `unknown key ${keys} (expected one of: ${Object.keys(userConfigSchema.shape).join(', ')})`;
      }
      return `${key}${issue.message}`;
    })
    .join('; ');
}

/** Validates a parsed config object from `file`. */
export function validateConfig(value: unknown, file: string): z.output<typeof userConfigSchema> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('the config must be an object', file);
  }
  const parsed = userConfigSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error), file);
  return parsed.data;
}

/** Loads a JavaScript config with `import()`, so its own error (a syntax error, a missing import) is what the user sees. */
const importLoader: Loader = async (filepath) => ((await import(pathToFileURL(filepath).href)) as { default?: unknown }).default;

/**
 * JSON (config files and every package.json on the way up) with `JSON.parse`,
 * the error placed at its line and column: cosmiconfig's loader loads
 * parse-json and a code-frame highlighter first, a visible part of start-up.
 */
export const jsonLoader: LoaderSync = (_filepath, content) => {
  try {
    return JSON.parse(content) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    if (position === undefined) throw error;
    const before = content.slice(0, Number(position)).split('\n');
    throw new Error(`${message} (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`, { cause: error });
  }
};

/** Wraps a loader so that a config that cannot be read or parsed yields a ConfigError naming its file. */
function naming<L extends Loader>(load: L): L {
  return (async (filepath: string, content: string): Promise<unknown> => {
    try {
      return await load(filepath, content);
    } catch (error) {
      throw configReadError(error, filepath);
    }
  }) as L;
}

function configReadError(error: unknown, filepath: string | undefined): ConfigError {
  // A JavaScript config that calls a plugin factory with bad options.
  const optionsError = tryNameConfigFile(error, filepath);
  if (optionsError) return optionsError;
  if (error instanceof ConfigError) return error;
  // cosmiconfig's JSON and YAML loaders prefix the file; ConfigError names it already.
  const message = (error as Error).message.replace(/^(JSON|YAML) Error in [^\n]*:[ \t]*\n*/, '');
  return new ConfigError(`cannot read the config: ${message}`, filepath, { cause: error });
}

/** Every loader, for a config named with --config and for JavaScript and TypeScript configs the search found. */
const LOADERS: Loaders = Object.fromEntries(
  Object.entries(defaultLoaders).map(([ext, loader]): [string, Loader] => [
    ext,
    naming(ext === '.js' || ext === '.mjs' || ext === '.cjs' ? importLoader : ext === '.json' ? jsonLoader : loader),
  ]),
);

/** Stands for a JavaScript or TypeScript config in the synchronous search; loaded afterwards with {@link LOADERS}. */
const DEFERRED = Symbol('orchestrate.deferredConfig');

/**
 * The search's loaders: synchronous, because the search is a few dozen stats
 * and reads of small local files, each a thread-pool round trip for the
 * asynchronous explorer (~1 ms each here: most of the config's start-up).
 * Module configs need `import()` and are only marked.
 */
const SEARCH_LOADERS: LoadersSync = {
  '.json': jsonLoader,
  '.yaml': defaultLoadersSync['.yaml'],
  '.yml': defaultLoadersSync['.yml'],
  noExt: defaultLoadersSync.noExt,
  '.js': () => DEFERRED,
  '.cjs': () => DEFERRED,
  '.mjs': () => DEFERRED,
  '.ts': () => DEFERRED,
};

/**
 * Finds the config from `cwd` upwards (or reads `explicitFile`) and validates it.
 * Returns `undefined` when there is none.
 */
export async function tryLoadConfig(cwd: string, explicitFile?: string): Promise<LoadedConfig | undefined> {
  const options = {
    searchPlaces: CONFIG_SEARCH_PLACES,
    searchStrategy: 'project',
    // An empty config file is an error, not a reason to look further up.
    ignoreEmptySearchPlaces: false,
    cache: false,
  } as const;
  let result: CosmiconfigResult = null;
  let file = explicitFile;
  try {
    // Explorers are created inside the try: cosmiconfig reads package.json while it is created.
    if (explicitFile === undefined) {
      result = cosmiconfigSync('orchestrate', { ...options, loaders: SEARCH_LOADERS }).search(cwd);
      file = result?.filepath;
    }
    if (explicitFile !== undefined || result?.config === DEFERRED) {
      result = await cosmiconfig('orchestrate', { ...options, loaders: LOADERS }).load(file as string);
    }
  } catch (error) {
    // cosmiconfig marks the file a loader failed on.
    const failed = (error as { filepath?: unknown }).filepath;
    throw configReadError(error, typeof failed === 'string' ? failed : (file ?? /in (\/[^\s:]+)/.exec((error as Error).message)?.[1]));
  }
  if (!result) return undefined;
  if (result.isEmpty) throw new ConfigError('the config file is empty', result.filepath);
  let value: unknown = result.config;
  if (typeof value === 'function') value = await (value as () => unknown)();
  return { config: validateConfig(value, result.filepath), file: result.filepath, dir: dirname(result.filepath) };
}
