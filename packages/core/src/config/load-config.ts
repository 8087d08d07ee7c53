/**
 * Finding and reading the config file with cosmiconfig, and validating it
 * with the schema. Errors name the file, the key and what was expected.
 */
import { cosmiconfig, defaultLoaders, type Loader, type Loaders } from 'cosmiconfig';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as z from 'zod';
import { ConfigError } from '../errors.js';
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

/** Every loader, wrapped so that a config that cannot be read or parsed yields a ConfigError naming its file. */
const LOADERS: Loaders = Object.fromEntries(
  Object.entries(defaultLoaders).map(([ext, loader]): [string, Loader] => {
    const load: Loader = ext === '.js' || ext === '.mjs' || ext === '.cjs' ? importLoader : loader;
    return [
      ext,
      async (filepath, content) => {
        try {
          return await load(filepath, content);
        } catch (error) {
          // cosmiconfig's JSON and YAML loaders prefix the file; ConfigError names it already.
          const message = (error as Error).message.replace(/^(JSON|YAML) Error in [^\n]*:[ \t]*\n*/, '');
          throw new ConfigError(`cannot read the config: ${message}`, filepath, { cause: error });
        }
      },
    ];
  }),
) as Loaders;

/**
 * Finds the config from `cwd` upwards (or reads `explicitFile`) and validates it.
 * Returns `undefined` when there is none.
 */
export async function tryLoadConfig(cwd: string, explicitFile?: string): Promise<LoadedConfig | undefined> {
  let result;
  try {
    // Created inside the try: cosmiconfig reads package.json while it is created.
    const explorer = cosmiconfig('orchestrate', {
      searchPlaces: CONFIG_SEARCH_PLACES,
      searchStrategy: 'project',
      loaders: LOADERS,
      // An empty config file is an error, not a reason to look further up.
      ignoreEmptySearchPlaces: false,
      cache: false,
    });
    result = explicitFile ? await explorer.load(explicitFile) : await explorer.search(cwd);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const message = (error as Error).message;
    const file = explicitFile ?? /in (\/[^\s:]+)/.exec(message)?.[1];
    throw new ConfigError(`cannot read the config: ${message.replace(/^(JSON|YAML) Error in [^\n]*:[ \t]*\n*/, '')}`, file, {
      cause: error,
    });
  }
  if (!result) return undefined;
  if (result.isEmpty) throw new ConfigError('the config file is empty', result.filepath);
  let value: unknown = result.config;
  if (typeof value === 'function') value = await (value as () => unknown)();
  return { config: validateConfig(value, result.filepath), file: result.filepath, dir: dirname(result.filepath) };
}
