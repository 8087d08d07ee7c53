/**
 * Fingerprint helpers for plugins: the identity of a tool (resolved path,
 * version line and a hash of its binary, so an upgrade in place is seen) and
 * a comparison that names the entries that differ.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, mkdir, open, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { spawnCapture } from '../process.js';
import type { Fingerprint } from '../hooks.js';

/** Finds `command` on PATH like a shell would; `undefined` when absent. */
export async function tryWhich(command: string, path = process.env['PATH'] ?? ''): Promise<string | undefined> {
  if (command.includes('/')) return isAbsolute(command) ? command : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
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
 * version line may depend on the environment.
 */
function identityCacheDir(): string {
  const cacheHome = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(cacheHome, 'orchestrate', 'tools');
}

async function isScript(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    await handle.read(head, 0, 2, 0);
    return head.toString('latin1') === '#!';
  } finally {
    await handle.close();
  }
}

async function persistentKey(real: string, versionArgs: readonly string[], cwd: string | undefined): Promise<string | undefined> {
  try {
    const info = await stat(real, { bigint: true });
    if (!info.isFile() || (await isScript(real))) return undefined;
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
      const resolved = isAbsolute(command) ? command : await tryWhich(command);
      if (!resolved) return `missing: ${command}`;
      const real = await realpath(resolved).catch(() => resolved);
      const persistent = await persistentKey(real, versionArgs, cwd);
      const file = persistent && join(identityCacheDir(), persistent);
      if (file) {
        const known = await readFile(file, 'utf8').catch(() => undefined);
        if (known) return known;
      }
      const version = await spawnCapture(resolved, versionArgs, cwd ? { cwd } : {});
      const line = (version.stdout || version.stderr).split('\n')[0]?.trim() ?? '';
      const identity = `${real} | ${line} | sha256:${(await fileSha256(real)).slice(0, 16)}`;
      if (file && version.exitCode === 0) {
        // Best effort: a cache that cannot be written only costs the next run a spawn.
        const temp = `${file}.${process.pid}.tmp`;
        await mkdir(identityCacheDir(), { recursive: true })
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
