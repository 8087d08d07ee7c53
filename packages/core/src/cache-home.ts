/**
 * Where orchestrate keeps its caches (the launcher's V8 code cache, the time
 * helper, tool identities, cargo's tool answers) and, unless told otherwise,
 * its store: the user's cache directory, when there is one to write.
 *
 * A build sandbox is not a user: Nix sets `HOME=/homeless-shelter`, a path
 * that must stay absent (with the sandbox off, creating it makes every later
 * non-sandboxed Nix build on the machine fail), and other builders run with
 * no HOME or a read-only one. So HOME is used only when it is set, is an
 * existing directory this process can write, and no Nix build is detected
 * (`NIX_BUILD_TOP`); otherwise caches go to `$TMPDIR` (a Nix build's own
 * temporary directory, gone with the build) or nowhere.
 *
 * This module imports node's modules only: the launcher (`cli/bin.ts`) runs it
 * before any bundle is loaded.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** True inside a Nix builder: `NIX_BUILD_TOP` is set by every Nix build (sandboxed or not) and by nix-shell. */
export function isNixBuild(env: Env = process.env): boolean {
  return Boolean(env['NIX_BUILD_TOP']);
}

/** An existing directory this process may create entries in (a read-only mount says no). */
function isWritableDir(path: string): boolean {
  try {
    if (!statSync(path).isDirectory()) return false;
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why a cache directory was chosen, for debug output and error messages. */
export type CacheHomeSource = 'XDG_CACHE_HOME' | 'HOME' | 'TMPDIR';

/**
 * The directory caches go under (each in its own `orchestrate/…`
 * subdirectory), or `undefined` when there is none to write:
 *
 * 1. `$XDG_CACHE_HOME` when set to an absolute path (an explicit choice, honoured in a Nix build too);
 * 2. `$HOME/.cache`, unless in a Nix build, when `$HOME` is set and is a writable directory
 *    (and `$HOME/.cache`, when it exists, is writable too); HOME is never created;
 * 3. `$TMPDIR` when set to a writable directory;
 * 4. nowhere.
 */
export function tryCacheHome(env: Env = process.env): { dir: string; from: CacheHomeSource } | undefined {
  const xdg = env['XDG_CACHE_HOME'];
  // The XDG spec: a relative path is invalid and ignored.
  if (xdg && isAbsolute(xdg)) return { dir: xdg, from: 'XDG_CACHE_HOME' };
  const home = env['HOME'];
  if (!isNixBuild(env) && home && isAbsolute(home) && isWritableDir(home)) {
    const cache = join(home, '.cache');
    // Made on first use when absent; when something is there, it must be a directory to write into.
    if (!existsSync(cache) || isWritableDir(cache)) return { dir: cache, from: 'HOME' };
  }
  const tmp = env['TMPDIR'];
  if (tmp && isAbsolute(tmp) && isWritableDir(tmp)) return { dir: tmp, from: 'TMPDIR' };
  return undefined;
}

/** `<cache home>/orchestrate/<name>`, or `undefined` when there is no cache home (the cache is then not kept). */
export function tryCacheDir(name: string, env: Env = process.env): string | undefined {
  const home = tryCacheHome(env);
  return home === undefined ? undefined : join(home.dir, 'orchestrate', name);
}
