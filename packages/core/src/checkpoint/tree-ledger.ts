/**
 * The tree ledger: which paths of a build directory orchestrate itself wrote
 * as state there, by restoring them or by capturing them after a build. It
 * lets a later restore in the same tree replace such a file (an object the
 * user's own `make` rebuilt, an output of another branch) without taking the
 * checkpoint's word that it is build output. It lives in the local store, never
 * in the user's tree:
 *
 *   <store>/trees/<sha256 of the build directory>.json   { "buildDir": "/abs", "paths": [...] }
 *   <tmpdir>/orchestrate-trees/<same>.json               where the store cannot be written
 *
 * Only orchestrate's own runs write it; a checkpoint (local, shared or forged)
 * never does. Failures to read or write it cost only that evidence: the
 * restore then compares contents instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../sources/hash.js';
import { isSafeRelativePath } from './manifest.js';

/** Where a ledger may be: the store's own, then one for a store that cannot be written (a read-only mount, a Nix input). */
function ledgerDirs(storeDir: string): string[] {
  return [join(storeDir, 'trees'), join(tmpdir(), 'orchestrate-trees')];
}

function readOne(file: string, buildDir: string): string[] {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { buildDir?: unknown; paths?: unknown };
    if (json.buildDir !== buildDir || !Array.isArray(json.paths)) return [];
    return json.paths.filter((p): p is string => typeof p === 'string' && isSafeRelativePath(p));
  } catch {
    return [];
  }
}

/** The paths recorded for `buildDir`; empty when there is no (readable) ledger. */
export function readTreeLedger(storeDir: string, buildDir: string): Set<string> {
  const name = `${sha256(buildDir)}.json`;
  return new Set(ledgerDirs(storeDir).flatMap((dir) => readOne(join(dir, name), buildDir)));
}

/**
 * Records `paths` as build output of `buildDir` (added to what is recorded, or
 * replacing it). Returns false when the ledger could not be written.
 */
export function recordTreeOutputs(storeDir: string, buildDir: string, paths: Iterable<string>, mode: 'add' | 'replace'): boolean {
  const all = mode === 'add' ? readTreeLedger(storeDir, buildDir) : new Set<string>();
  for (const path of paths) all.add(path);
  const text = `${JSON.stringify({ buildDir, paths: [...all].sort() })}\n`;
  for (const dir of ledgerDirs(storeDir)) {
    // Beside the ledger, renamed into place: a killed run leaves a temporary file at worst.
    const temp = join(dir, `.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(temp, text);
      renameSync(temp, join(dir, `${sha256(buildDir)}.json`));
      return true;
    } catch {
      rmSync(temp, { force: true });
    }
  }
  return false;
}
