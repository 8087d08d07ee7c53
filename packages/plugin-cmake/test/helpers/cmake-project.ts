// Test helpers: the examples/cmake-hello project configured and built by the
// real cmake, ninja and make in a temp dir, plus exact-mtime file rewriting.
import { cpSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** examples/cmake-hello in this repository. */
export const CMAKE_HELLO_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../examples/cmake-hello');

export type Generator = 'Ninja' | 'Unix Makefiles';

/** A fresh temp dir; callers remove it. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `orchestrate-${prefix}-`));
}

/** Copies the example (without any build dir) to `sourceDir`. */
export function copyExample(sourceDir: string): void {
  cpSync(CMAKE_HELLO_SOURCE, sourceDir, {
    recursive: true,
    filter: (src) => relative(CMAKE_HELLO_SOURCE, src).split('/')[0] !== 'build',
  });
}

/** Configures and builds with the real tools; returns the build's stdout. */
export async function configureAndBuild(
  sourceDir: string,
  buildDir: string,
  generator: Generator,
  extraArgs: readonly string[] = [],
): Promise<string> {
  await execa('cmake', ['-S', sourceDir, '-B', buildDir, '-G', generator, ...extraArgs]);
  const { stdout } = await execa('cmake', ['--build', buildDir]);
  return stdout;
}

/** The exact mtime in ns. */
export function mtimeNs(path: string): bigint {
  return statSync(path, { bigint: true }).mtimeNs;
}

/** Sets an exact ns mtime (Node's utimes cannot: it goes through a double). */
export async function setMtimeNs(path: string, ns: bigint): Promise<void> {
  const seconds = ns / 1_000_000_000n;
  const nanos = (ns % 1_000_000_000n).toString().padStart(9, '0');
  await execa('touch', ['-m', '-d', `@${seconds}.${nanos}`, path]);
}

/** Replaces a file's content and gives it back its exact previous mtime. */
export async function rewriteKeepingMtime(path: string, content: Uint8Array): Promise<void> {
  const before = mtimeNs(path);
  writeFileSync(path, content);
  await setMtimeNs(path, before);
  if (mtimeNs(path) !== before) throw new Error(`mtime of ${path} not preserved`);
}

/** Every regular file below `dir`, as absolute paths. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** `cp -a`: the whole tree with modes and ns mtimes. */
export async function copyPreserving(from: string, to: string): Promise<void> {
  await execa('cp', ['-a', from, to]);
}

/** Appends a line to a source file and makes it strictly newer than anything in the tree. */
export async function editSource(path: string, line: string, newerThan: bigint): Promise<void> {
  writeFileSync(path, `${readFileSync(path, 'utf8')}${line}\n`);
  if (mtimeNs(path) <= newerThan) await setMtimeNs(path, newerThan + 1_000_000n);
}
