/**
 * How the `orchestrate` process loads its code: all of the CLI's start-up
 * machinery, in this one module, behind one switch.
 *
 * The build (`scripts/bundle.mjs`) makes one CommonJS bundle of the library
 * and the CLI, `dist/bundle/core.cjs`; {@link startCli} loads it and runs the
 * CLI. By default it loads it through a V8 code cache:
 *
 * - Without a cache, every run compiles ~800 KB of JavaScript again, and the
 *   functions a build calls are compiled lazily on top: most of a small
 *   build's start-up. The bytecode V8 produced in the first run is saved when
 *   the process exits (`script.createCachedData()`, after the run, so the
 *   lazily compiled functions are in it) under the user's cache directory,
 *   keyed by the bundle's content, node's version and architecture, and read
 *   by later runs; V8 rejects a cache made by another V8 or with other flags,
 *   and a rejected or unwritable cache only costs the compile. Node 20 has no
 *   compile cache of its own for ES modules (`module.enableCompileCache` is
 *   node 22), hence the bundle is CommonJS.
 * - The module is registered in require's cache under the bundle's file
 *   name, so plugins that require or import `@orchestrate/core` (its
 *   "require" entry is the bundle; its ES-module entry a facade requiring it)
 *   share this instance.
 * - `import()` cannot run in code restored from a code cache in node 20 ("A
 *   dynamic import callback was not specified"; the callback given to
 *   `vm.Script` is not kept with cached code). The build therefore rewrites
 *   the bundle's `import(` calls to {@link IMPORT_BRIDGE}, a function this
 *   module hands the bundle on its `module` object, and to node's own
 *   `import()` when the bundle is loaded by plain `require`
 *   ({@link bundlePrelude}).
 *
 * `ORCHESTRATE_CODE_CACHE=0` turns all of it off: the bundle is loaded by
 * plain `require`, as any CommonJS file, and nothing is read from or written
 * to the cache directory. Nothing else in orchestrate knows about any of it.
 *
 * This module imports node's modules only: it runs before the bundle.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { tryCacheDir } from '../cache-home.js';

/** What the bundle exports for the launcher (see `src/core-bundle.ts`). */
interface CliBundle {
  runCliProcess(): Promise<void>;
}

/** Node's CommonJS loader internals used here (stable, used by every code-cache loader). */
type ModuleInternals = typeof Module & {
  _cache: Record<string, Module>;
  _nodeModulePaths(dir: string): string[];
  wrap(source: string): string;
};

/** The environment variable that turns the start-up machinery off with `0`. */
export const CODE_CACHE_SWITCH = 'ORCHESTRATE_CODE_CACHE';

/** The property of the bundle's `module` through which its `import()` calls go when loaded from the code cache. */
export const IMPORT_BRIDGE = 'orchestrateImport';

/** The name the build gives the bundle's rewritten `import(` calls. */
export const IMPORT_CALL = '__orchestrateImport';

/**
 * The lines the build puts at the top of the bundle (after `"use strict"`):
 * `IMPORT_CALL` is the launcher's bridge when there is one, else node's own
 * `import()`; `importMetaUrl` stands for the sources' `import.meta.url`.
 */
export function bundlePrelude(importMetaUrl: string): string {
  return [
    `var ${importMetaUrl} = require('node:url').pathToFileURL(__filename).href;`,
    `var ${IMPORT_CALL} = typeof module.${IMPORT_BRIDGE} === "function" ? module.${IMPORT_BRIDGE} : (specifier) => import(specifier);`,
  ].join('\n');
}

/** Caches of other bundles (other versions of orchestrate, or of node) kept besides the newest. */
const KEPT_CACHES = 4;

/** Removes all but the newest caches, so upgrades do not pile up ~1 MB files. */
function pruneCaches(dir: string): void {
  const caches = readdirSync(dir)
    .filter((name) => /^core-[0-9a-f]+\.bin$/.test(name))
    .map((name) => ({ name, mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { name } of caches.slice(KEPT_CACHES)) rmSync(join(dir, name), { force: true });
}

/** Loads the bundle as require would, compiling it from (and for) the code cache. */
function loadWithCodeCache(file: string): CliBundle {
  const loader = Module as ModuleInternals;
  const source = readFileSync(file, 'utf8');
  const key = createHash('sha256').update(`${process.version}\0${process.arch}\0`).update(source).digest('hex').slice(0, 24);
  // <cache>/orchestrate/v8/core-<key>.bin; no cache at all where none may be written (cache-home.ts: a Nix build, a missing HOME).
  const cacheDir = tryCacheDir('v8');
  const cacheFile = join(cacheDir ?? '', `core-${key}.bin`);
  let cachedData: Buffer | undefined;
  if (cacheDir !== undefined) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // first run of this bundle with this node
    }
  }
  const script = new Script(loader.wrap(source), { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
  if (cacheDir !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    process.once('exit', () => {
      try {
        mkdirSync(cacheDir, { recursive: true });
        // pid and random bytes: containers sharing one cache directory can have equal pids.
        const temp = `${cacheFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
        writeFileSync(temp, script.createCachedData());
        renameSync(temp, cacheFile);
        pruneCaches(cacheDir);
      } catch {
        // a read-only cache directory: the next run compiles again
      }
    });
  }
  const mod = new Module(file) as Module & Record<typeof IMPORT_BRIDGE, (specifier: string) => Promise<unknown>>;
  mod.filename = file;
  mod[IMPORT_BRIDGE] = (specifier) => import(specifier);
  mod.paths = loader._nodeModulePaths(dirname(file));
  loader._cache[file] = mod;
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  try {
    wrapper.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
  } catch (error) {
    delete loader._cache[file];
    throw error;
  }
  mod.loaded = true;
  return mod.exports as CliBundle;
}

/** Loads the CLI bundle `file` (through the code cache unless switched off) and runs the CLI on this process. */
export function startCli(file: string): Promise<void> {
  const bundle = process.env[CODE_CACHE_SWITCH] === '0' ? (Module.createRequire(file)(file) as CliBundle) : loadWithCodeCache(file);
  return bundle.runCliProcess();
}
