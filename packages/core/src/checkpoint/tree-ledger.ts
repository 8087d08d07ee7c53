/**
 * The tree ledger: which paths of a build directory orchestrate itself wrote
 * as state there, by restoring them or by capturing them after a build. It
 * lets a later restore in the same tree replace such a file (an object the
 * user's own `make` rebuilt, an output of another branch) without taking the
 * checkpoint's word that it is build output. It lives in the local store, never
 * in the user's tree:
 *
 *   <store>/trees/<sha256 of the build directory>.json   { "buildDir": "/abs", "paths": [...] }
 *
 * Only orchestrate's own runs write it; a checkpoint (local, shared or forged)
 * never does. Failures to read or write it (a read-only store) cost only that
 * evidence: the restore then compares contents instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../sources/hash.js';
import { isSafeRelativePath } from './manifest.js';

function ledgerFile(storeDir: string, buildDir: string): string {
  return join(storeDir, 'trees', `${sha256(buildDir)}.json`);
}

/** The paths recorded for `buildDir`; empty when there is no (readable) ledger. */
export function readTreeLedger(storeDir: string, buildDir: string): Set<string> {
  try {
    const json = JSON.parse(readFileSync(ledgerFile(storeDir, buildDir), 'utf8')) as { buildDir?: unknown; paths?: unknown };
    if (json.buildDir !== buildDir || !Array.isArray(json.paths)) return new Set();
    return new Set(json.paths.filter((p): p is string => typeof p === 'string' && isSafeRelativePath(p)));
  } catch {
    return new Set();
  }
}

/**
 * Records `paths` as build output of `buildDir` (added to what is recorded, or
 * replacing it). Returns false when the ledger could not be written.
 */
export function recordTreeOutputs(storeDir: string, buildDir: string, paths: Iterable<string>, mode: 'add' | 'replace'): boolean {
  const file = ledgerFile(storeDir, buildDir);
  const all = mode === 'add' ? readTreeLedger(storeDir, buildDir) : new Set<string>();
  for (const path of paths) all.add(path);
  // In the store's tmp/, which gc sweeps of what killed runs leave.
  const temp = join(storeDir, 'tmp', `ledger-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(join(storeDir, 'trees'), { recursive: true });
    mkdirSync(join(storeDir, 'tmp'), { recursive: true });
    writeFileSync(temp, `${JSON.stringify({ buildDir, paths: [...all].sort() })}\n`);
    renameSync(temp, file);
    return true;
  } catch {
    rmSync(temp, { force: true });
    return false;
  }
}
