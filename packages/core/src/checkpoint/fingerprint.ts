/**
 * Fingerprint helpers for plugins: the identity of a tool (resolved path,
 * version line and a hash of its binary, so an upgrade in place is seen) and
 * a comparison that names the entries that differ.
 */
import { createHash } from 'node:crypto';
import { accessSync, closeSync, constants, createReadStream, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { runProcess } from '../process.js';
import { tryCacheDir } from '../cache-home.js';
import type { Fingerprint } from '../hooks.js';

/** Finds `command` on PATH like a shell would; `undefined` when absent. */
export async function tryWhich(command: string, path = process.env['PATH'] ?? ''): Promise<string | undefined> {
  return tryWhichSync(command, path);
}

// The lookups below are a few stats of local files per tool: synchronous, as
// each would otherwise wait for the thread pool behind the run's other I/O.
function tryWhichSync(command: string, path: string): string | undefined {
  if (command.includes('/')) return isAbsolute(command) ? command : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const identityCache = new Map<string, Promise<string>>();

/**
 * Identities are also kept across runs, under the user's cache directory, keyed
 * by the binary's path, inode, size, mtime and ctime: an upgrade in place
 * changes them, and running `cc --version` three times per build is a visible
 * part of a small incremental build. Scripts (`#!`) are not kept: their
 * version line may depend on the environment. Not kept at all where there is
 * no cache directory to write (see `cache-home.ts`).
 */
function tryIdentityCacheDir(): string | undefined {
  return tryCacheDir('tools');
}

function isScript(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    readSync(fd, head, 0, 2, 0);
    return head.toString('latin1') === '#!';
  } finally {
    closeSync(fd);
  }
}

function persistentKey(real: string, versionArgs: readonly string[], cwd: string | undefined): string | undefined {
  try {
    const info = statSync(real, { bigint: true });
    if (!info.isFile() || isScript(real)) return undefined;
    const key = [real, info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs, ...versionArgs, cwd ?? ''].join('\0');
    return createHash('sha256').update(key).digest('hex').slice(0, 32);
  } catch {
    return undefined;
  }
}

/**
 * Describes a tool as `<real path> | <first line of its version output> | sha256:<binary hash>`.
 * A missing tool is described as `missing: <command>`.
 */
export function toolIdentity(command: string, versionArgs: readonly string[] = ['--version'], cwd?: string): Promise<string> {
  const key = `${command}\0${versionArgs.join('\0')}\0${cwd ?? ''}`;
  let cached = identityCache.get(key);
  if (!cached) {
    cached = (async () => {
      const resolved = isAbsolute(command) ? command : tryWhichSync(command, process.env['PATH'] ?? '');
      if (!resolved) return `missing: ${command}`;
      let real = resolved;
      try {
        real = realpathSync(resolved);
      } catch {
        // a dangling link: described by its own path
      }
      const cacheDir = tryIdentityCacheDir();
      const persistent = cacheDir === undefined ? undefined : persistentKey(real, versionArgs, cwd);
      const file = cacheDir !== undefined && persistent !== undefined ? join(cacheDir, persistent) : undefined;
      if (file) {
        let known: string | undefined;
        try {
          known = readFileSync(file, 'utf8');
        } catch {
          // not known yet
        }
        if (known) return known;
      }
      const version = await runProcess(resolved, versionArgs, cwd ? { cwd } : {});
      const line = (version.stdout || version.stderr).split('\n')[0]?.trim() ?? '';
      const identity = `${real} | ${line} | sha256:${(await fileSha256(real)).slice(0, 16)}`;
      if (file && version.exitCode === 0) {
        // Best effort: a cache that cannot be written only costs the next run a spawn.
        const temp = `${file}.${process.pid}.tmp`;
        await mkdir(cacheDir as string, { recursive: true })
          .then(() => writeFile(temp, identity))
          .then(() => rename(temp, file))
          .catch(() => undefined);
      }
      return identity;
    })();
    identityCache.set(key, cached);
  }
  return cached;
}

/** One fingerprint entry that differs between a checkpoint and the current run. */
export interface FingerprintDifference {
  readonly key: string;
  readonly recorded: string | undefined;
  readonly current: string | undefined;
}

/** The entries that differ, sorted by key. */
export function compareFingerprints(recorded: Readonly<Fingerprint>, current: Readonly<Fingerprint>): FingerprintDifference[] {
  const keys = new Set([...Object.keys(recorded), ...Object.keys(current)]);
  const out: FingerprintDifference[] = [];
  for (const key of [...keys].sort()) {
    if (recorded[key] !== current[key]) out.push({ key, recorded: recorded[key], current: current[key] });
  }
  return out;
}

/** A one-line description of fingerprint differences, e.g. `env.CFLAGS changed ('-O2' → '-O0')`. */
export function describeDifferences(differences: readonly FingerprintDifference[], limit = 3): string {
  const quote = (v: string | undefined): string => (v === undefined ? 'unset' : `'${v.length > 80 ? `${v.slice(0, 77)}...` : v}'`);
  const parts = differences.slice(0, limit).map((d) => `${d.key} changed (${quote(d.recorded)} → ${quote(d.current)})`);
  if (differences.length > limit) parts.push(`and ${differences.length - limit} more`);
  return parts.join(', ');
}
