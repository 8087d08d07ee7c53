#!/usr/bin/env node
/**
 * The `orchestrate` executable: a launcher that loads the CLI bundle
 * (`dist/bundle/core.cjs`) with a V8 code cache and runs it.
 *
 * Without a cache, every run compiles ~800 KB of JavaScript again, and the
 * functions a build calls are compiled lazily on top: most of a small build's
 * start-up. The bytecode V8 produced in the first run is saved when the
 * process exits (`script.createCachedData()`, after the run, so the lazily
 * compiled functions are in it) under the user's cache directory (see
 * `cache-home.ts`: never under a missing or read-only HOME, nor under HOME in
 * a Nix build, where it goes to `$TMPDIR` or is not kept), keyed by
 * the bundle's content, node's version and architecture, and read by later
 * runs; V8 rejects a cache made by another V8 or with other flags, and a
 * rejected or unwritable cache only costs the compile. Node 20 has no
 * compile cache of its own for ES modules (`module.enableCompileCache` is
 * node 22), hence the bundle is CommonJS. The module is registered in
 * require's cache under its file name, so plugins that import
 * `@orchestrate/core` (an ES module re-exporting the same file) share this
 * instance. `ORCHESTRATE_CODE_CACHE=0` turns the cache off.
 *
 * This file imports node's modules (and `cache-home.ts`, which imports node's
 * modules only): it runs before any bundle.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { tryCacheDir } from '../cache-home.js';

interface CliBundle {
  runCliProcess(): Promise<void>;
}

/** Node's CommonJS loader internals used here (stable, used by every code-cache loader). */
type ModuleInternals = typeof Module & {
  _cache: Record<string, Module>;
  _nodeModulePaths(dir: string): string[];
  wrap(source: string): string;
};

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

function loadBundle(file: string): CliBundle {
  const loader = Module as ModuleInternals;
  const source = readFileSync(file, 'utf8');
  const cacheDir = process.env['ORCHESTRATE_CODE_CACHE'] === '0' ? undefined : tryCacheDir('v8');
  const enabled = cacheDir !== undefined;
  const key = createHash('sha256').update(`${process.version}\0${process.arch}\0`).update(source).digest('hex').slice(0, 24);
  const cacheFile = join(cacheDir ?? '', `core-${key}.bin`);
  let cachedData: Buffer | undefined;
  if (enabled) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      // first run of this bundle with this node
    }
  }
  const script = new Script(loader.wrap(source), { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
  if (enabled && (cachedData === undefined || script.cachedDataRejected === true)) {
    process.once('exit', () => {
      try {
        if (cacheDir === undefined) return;
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
  const mod = new Module(file) as Module & { orchestrateImport?: (specifier: string) => Promise<unknown> };
  mod.filename = file;
  // import() inside a script restored from a code cache fails in node 20; the bundle imports through this module's.
  mod.orchestrateImport = (specifier) => import(specifier);
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

void loadBundle(join(__dirname, '..', 'core.cjs')).runCliProcess();
