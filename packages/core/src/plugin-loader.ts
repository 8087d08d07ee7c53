/**
 * Turning config plugin entries into plugin objects. A package name in a
 * JSON or YAML config resolves from the config file's directory first, then
 * from orchestrate's own installation; the package's default export is the
 * factory, called with the options of a `[package, options]` pair.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { exports as resolveExports, legacy } from 'resolve.exports';
import { pathToFileURL } from 'node:url';
import { PluginLoadError } from './errors.js';
import { isPlugin, type Plugin } from './plugin.js';
import { tryNameConfigFile } from './plugin-options.js';

/**
 * The file `specifier` names from `fromDir`: require's resolution first (CommonJS
 * and dual packages, whose "require" entry loads fastest), else an ES-module-only
 * package's "import" entry, looked up in the node_modules directories above.
 */
function tryResolve(specifier: string, fromDir: string): string | undefined {
  try {
    return createRequire(join(fromDir, 'noop.js')).resolve(specifier);
  } catch {
    return tryResolveImport(specifier, fromDir);
  }
}

function tryResolveImport(specifier: string, fromDir: string): string | undefined {
  const name = /^(@[^/]+\/[^/]+|[^./@][^/]*)(\/.*)?$/.exec(specifier);
  if (!name?.[1]) return undefined;
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const root = join(dir, 'node_modules', name[1]);
    let pkg: Record<string, unknown> | undefined;
    try {
      pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      pkg = undefined;
    }
    if (pkg) {
      // Node's own rule: a package found stops the lookup, whether or not it exports the entry.
      const entry = `.${name[2] ?? ''}`;
      let target: string | undefined;
      try {
        target =
          pkg['exports'] === undefined
            ? entry === '.'
              ? (legacy(pkg, { browser: false, fields: ['main'] }) ?? 'index.js')
              : entry
            : resolveExports(pkg, entry)?.[0];
      } catch {
        target = undefined; // the package does not export the entry
      }
      return target === undefined ? undefined : join(root, target);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

async function loadSpecifier(
  specifier: string,
  options: Record<string, unknown>,
  configDir: string,
  file: string | undefined,
): Promise<Plugin> {
  const resolved = tryResolve(specifier, configDir) ?? tryResolve(specifier, import.meta.dirname);
  if (!resolved) {
    throw new PluginLoadError(specifier, `not found from '${configDir}' nor from orchestrate's installation`, {
      hint: `install it (e.g. npm install --save-dev ${specifier}) or check the name`,
      file,
    });
  }
  let mod: Record<string, unknown>;
  try {
    // A CommonJS entry (the first-party plugins' bundle.cjs, under their "require" condition) is
    // required: one file, against the ES module graph import() resolves and links on every run.
    mod = resolved.endsWith('.cjs')
      ? (createRequire(resolved)(resolved) as Record<string, unknown>)
      : ((await import(pathToFileURL(resolved).href)) as Record<string, unknown>);
  } catch (error) {
    throw new PluginLoadError(specifier, `failed to import: ${(error as Error).message}`, { cause: error, file });
  }
  const factory = mod['default'];
  if (typeof factory !== 'function') {
    throw new PluginLoadError(specifier, 'the package has no default export that creates the plugin', { file });
  }
  let plugin: unknown;
  try {
    plugin = await (factory as (options: Record<string, unknown>) => unknown)(options);
  } catch (error) {
    throw tryNameConfigFile(error, file) ?? error;
  }
  if (!isPlugin(plugin)) throw new PluginLoadError(specifier, 'its factory did not return an object with name and apply()', { file });
  return plugin;
}

/**
 * Loads config plugin entries: objects, names, `[name, options]`, nested arrays; falsy entries are skipped.
 * `configFile` is named in load errors.
 */
export async function loadPlugins(entries: readonly unknown[], configDir: string, configFile?: string): Promise<Plugin[]> {
  const out: Plugin[] = [];
  for (const entry of entries) {
    if (entry === false || entry === null || entry === undefined) continue;
    if (
      Array.isArray(entry) &&
      entry.length === 2 &&
      typeof entry[0] === 'string' &&
      typeof entry[1] === 'object' &&
      entry[1] !== null &&
      !Array.isArray(entry[1])
    ) {
      out.push(await loadSpecifier(entry[0], (entry[1] ?? {}) as Record<string, unknown>, configDir, configFile));
    } else if (Array.isArray(entry)) {
      out.push(...(await loadPlugins(entry, configDir, configFile)));
    } else if (typeof entry === 'string') {
      out.push(await loadSpecifier(entry, {}, configDir, configFile));
    } else if (isPlugin(entry)) {
      out.push(entry);
    } else {
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value the config holds, as JavaScript prints it (an object without a toString prints as [object Object])
      throw new PluginLoadError(String(entry), 'not a plugin object, a package name or [package, options]', { file: configFile });
    }
  }
  return out;
}
