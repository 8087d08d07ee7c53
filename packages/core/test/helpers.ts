/**
 * Helpers of the core's integration tests: tiny real make projects and the
 * real CLI run as a subprocess, with or without `--json`.
 */
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CLI_BIN, listTree, tempDir } from '@orchestrate/core/testing';
import { runCli } from '../src/cli/main.js';

export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON, when it is an object. */
  json: Record<string, any> | undefined;
  /** How long the process ran, in ms. */
  ms: number;
}

/**
 * Runs `orchestrate args…` in `cwd`. `--store` is added when `store` is
 * given; `--json` is not added (pass it in `args`).
 */
export async function orchestrate(
  args: readonly string[],
  options: { cwd: string; store?: string; env?: Record<string, string | undefined> },
): Promise<Run> {
  const t0 = Date.now();
  const result = await execa(process.execPath, [CLI_BIN, ...args, ...(options.store === undefined ? [] : ['--store', options.store])], {
    cwd: options.cwd,
    env: { CI: 'true', ORCHESTRATE_STORE: undefined, ORCHESTRATE_CWD: undefined, ...options.env },
    reject: false,
    stdin: 'ignore',
  });
  const stdout = String(result.stdout);
  const last = stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, any> | undefined;
  if (last.startsWith('{')) json = JSON.parse(last) as Record<string, any>;
  return { exitCode: result.exitCode ?? -1, stdout, stderr: String(result.stderr), json, ms: Date.now() - t0 };
}

/**
 * Runs the CLI in this process through `runCli` (what `bin.js` runs, minus
 * the signal handlers), `-C cwd` and `--store` added: the same exit code and
 * output as the subprocess without a node start per run. For runs that need
 * no signals and load no JavaScript config.
 */
export async function orchestrateInProcess(
  args: readonly string[],
  options: { cwd: string; store?: string; env?: Record<string, string | undefined> },
): Promise<Run> {
  const t0 = Date.now();
  let stdout = '';
  let stderr = '';
  const exitCode = await runCli([...args, '-C', options.cwd, ...(options.store === undefined ? [] : ['--store', options.store])], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { ...process.env, CI: 'true', ORCHESTRATE_STORE: undefined, ORCHESTRATE_CWD: undefined, ...options.env },
    isTTY: false,
  });
  // As execa gives it for a subprocess.
  stdout = stdout.replace(/\n$/, '');
  stderr = stderr.replace(/\n$/, '');
  const last = stdout.trim().split('\n').pop() ?? '';
  const json = last.startsWith('{') ? (JSON.parse(last) as Record<string, any>) : undefined;
  return { exitCode, stdout, stderr, json, ms: Date.now() - t0 };
}

/** Writes `files` (path → content) below `dir`. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** A two-unit C program built in-source by make. */
export const TINY_SOURCES: Record<string, string> = {
  Makefile: ['CC ?= cc', 'hello: main.o greet.o', '\t$(CC) -o $@ main.o greet.o', '%.o: %.c greet.h', '\t$(CC) -c -o $@ $<', ''].join('\n'),
  'greet.h': 'const char *greeting(void);\n',
  'greet.c': '#include "greet.h"\nconst char *greeting(void) { return "hello"; }\n',
  'main.c': '#include <stdio.h>\n#include "greet.h"\nint main(void) { puts(greeting()); return 0; }\n',
};

/** The JSON config of the tiny project. */
export function makeConfig(extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ plugins: ['@orchestrate/plugin-make'], ...extra }, null, 2)}\n`;
}

/**
 * A new temporary make project (outside any git work tree) with a JSON
 * config naming the make plugin, and a store directory beside it.
 */
export async function tinyProject(
  options: { name?: string; files?: Record<string, string>; config?: string | false } = {},
): Promise<{ dir: string; store: string; root: string }> {
  const root = await tempDir('orchestrate-core-');
  const dir = join(root, options.name ?? 'tiny');
  await mkdir(dir, { recursive: true });
  await writeFiles(dir, { ...TINY_SOURCES, ...options.files });
  if (options.config !== false) await writeFile(join(dir, 'orchestrate.config.json'), options.config ?? makeConfig());
  return { dir, store: join(root, 'store'), root };
}

/** SHA-256 of every file below `dir` (links as their target), for "untouched" checks. */
export async function treeDigest(dir: string, filter?: (path: string) => boolean): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of await listTree(dir, filter)) {
    out[path] = createHash('sha256')
      .update(await readFile(join(dir, path)))
      .digest('hex');
  }
  return out;
}

/** Paths of every blob in a store (`<store>/objects/<ab>/<hash>`). */
export async function storeBlobs(store: string): Promise<string[]> {
  const objects = join(store, 'objects');
  const out: string[] = [];
  for (const prefix of await readdir(objects).catch(() => [] as string[])) {
    for (const name of await readdir(join(objects, prefix))) out.push(join(objects, prefix, name));
  }
  return out.sort();
}

/** Paths of every checkpoint manifest in a store. */
export async function storeManifests(store: string): Promise<string[]> {
  const root = join(store, 'checkpoints');
  const out: string[] = [];
  for (const dir of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, dir))) out.push(join(root, dir, name));
  }
  return out.sort();
}
