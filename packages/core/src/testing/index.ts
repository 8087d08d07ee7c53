/**
 * Test helpers for orchestrate and its plugins, published as
 * `@orchestrate/core/testing`: temporary project copies that look like fresh
 * clones, the real CLI run as a subprocess, a compiler wrapper that records
 * every compiled unit, and byte-for-byte tree comparison.
 */
import { createHash } from 'node:crypto';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { CLI_PATH } from '../package-info.js';
import { setTimes } from '../checkpoint/times.js';
import { runProcess } from '../process.js';

/** The `orchestrate` executable of this package. */
export const CLI_BIN = CLI_PATH;

/** A new empty temporary directory. */
export async function tempDir(prefix = 'orchestrate-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Copies a project as a fresh clone would give it: only the files git tracks
 * or would track (when `from` is in a git work tree), every file with a new
 * mtime, links kept as links, executable bits kept.
 */
export async function copyProject(from: string, to: string): Promise<void> {
  const listed = await runProcess('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '.'], { cwd: from });
  await mkdir(to, { recursive: true });
  if (listed.exitCode !== 0) {
    await cp(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: false });
    return;
  }
  const files = listed.stdout.split('\0').filter(Boolean);
  for (const file of files) {
    const src = join(from, file);
    const info = await lstat(src).catch(() => undefined);
    if (!info) continue; // deleted in the work tree
    await mkdir(dirname(join(to, file)), { recursive: true });
    await cp(src, join(to, file), { verbatimSymlinks: true, preserveTimestamps: false });
  }
}

/**
 * The CLI's `--json` report as tests read it: loose JSON, checked by the
 * test's expectations rather than by a type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index the report freely; their assertions are the check
export type CliReport = Record<string, any>;

/** The report's `leftOut` entries for state files left out because they name the old path (the core's path policy). */
export function leftOutNamingOldPath(report: CliReport | undefined): { reason: string; count: number; cautious: boolean }[] {
  const entries = (report?.['leftOut'] ?? []) as { reason: string; count: number; cautious: boolean }[];
  return entries.filter((item) => item.reason.startsWith('names the old path'));
}

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The parsed `--json` report, when stdout held one. */
  report: CliReport | undefined;
}

/** Runs the real `orchestrate` CLI as a subprocess with `--json`. */
export async function runOrchestrate(
  args: readonly string[],
  options: { cwd: string; store: string; env?: Record<string, string | undefined> },
): Promise<CliRun> {
  const result = await runProcess(process.execPath, [CLI_BIN, ...args, '--json', '--store', options.store], {
    cwd: options.cwd,
    env: { ...process.env, CI: 'true', ...options.env },
  });
  const stdout = result.stdout;
  let report: CliReport | undefined;
  const last = stdout.trim().split('\n').pop();
  if (last?.startsWith('{')) report = JSON.parse(last) as CliReport;
  return { exitCode: result.exitCode ?? -1, stdout, stderr: result.stderr, report };
}

/** A compiler wrapper that records each compiled source (the argument after `-c`'s input) and runs the real compiler. */
export interface CompilerLog {
  /** Path of the wrapper, to use as CC/CXX. */
  readonly path: string;
  /** The environment variable the wrapper appends to. */
  readonly env: Record<string, string>;
  /** Sources compiled since the last reset, relative to the compiler's working directory, sorted. */
  readonly units: () => Promise<string[]>;
  readonly reset: () => Promise<void>;
}

/** What {@link createCompilerLog}'s wrapper records. */
export interface CompilerLogOptions {
  /** Log each source as an absolute path (relative ones joined to the compiler's working directory). @default false */
  absolute?: boolean;
  /** Log the sources of compile-and-link commands too (`cc -shared a.c b.c -o lib.so`), not only of `-c`. @default false */
  linking?: boolean;
}

/** Writes a compiler wrapper into `dir` (the real compiler: `compiler`). */
export async function createCompilerLog(dir: string, compiler = 'gcc', options: CompilerLogOptions = {}): Promise<CompilerLog> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `log-${compiler.replace(/[^A-Za-z0-9+]/g, '_')}`);
  const logFile = join(dir, `${compiler.replace(/[^A-Za-z0-9+]/g, '_')}.log`);
  const source = options.absolute === true ? `$(case "$a" in /*) printf '%s' "$a" ;; *) printf '%s/%s' "$(pwd -P)" "$a" ;; esac)` : '$a';
  // Records every non-option argument that names a C/C++ source when -c is present (or always, with `linking`);
  // preprocessing (-E) and dependency generation (-M, -MM) compile nothing.
  await writeFile(
    path,
    `#!/bin/sh
compile=${options.linking === true ? 1 : 0}
for a in "$@"; do
  case "$a" in
    -c) compile=1 ;;
    -E|-M|-MM) compile=0; break ;;
  esac
done
if [ $compile = 1 ] && [ -n "$ORCHESTRATE_TEST_CC_LOG" ]; then
  for a in "$@"; do
    case "$a" in
      -*) ;;
      *.c|*.cc|*.cpp|*.cxx|*.C) printf '%s\\n' "${source}" >> "$ORCHESTRATE_TEST_CC_LOG" ;;
    esac
  done
fi
exec ${compiler} "$@"
`,
  );
  await chmod(path, 0o755);
  return {
    path,
    env: { ORCHESTRATE_TEST_CC_LOG: logFile },
    units: async () => {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).sort();
    },
    reset: () => rm(logFile, { force: true }),
  };
}

/** Every file and link below `dir` (relative paths, sorted), optionally filtered. */
export async function listTree(dir: string, filter: (path: string) => boolean = () => true): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await visit(path);
      else if (filter(path)) out.push(path);
    }
  };
  await visit('');
  return out.sort();
}

/** A digest of a file's bytes (or a link's target) for comparisons. */
export async function digestOf(path: string): Promise<string> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return `link:${await readlink(path)}`;
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/**
 * Compares two trees file by file (bytes and links); returns the differences,
 * empty when equal.
 */
export async function diffTrees(a: string, b: string, filter: (path: string) => boolean = () => true): Promise<string[]> {
  const [left, right] = await Promise.all([listTree(a, filter), listTree(b, filter)]);
  const differences: string[] = [];
  const rightSet = new Set(right);
  for (const path of left) {
    if (!rightSet.has(path)) differences.push(`only in ${a}: ${path}`);
    else if ((await digestOf(join(a, path))) !== (await digestOf(join(b, path)))) differences.push(`differs: ${path}`);
  }
  const leftSet = new Set(left);
  for (const path of right) if (!leftSet.has(path)) differences.push(`only in ${b}: ${path}`);
  return differences;
}

/** Sets a file's mtime in ns (exactly, unlike fs.utimes). */
export async function setMtimeNs(path: string, ns: bigint): Promise<void> {
  await setTimes([[path, ns]]);
}

/** `path` relative to `root`, POSIX. */
export function rel(root: string, path: string): string {
  return relative(root, path).split('\\').join('/');
}

export { mulberry32, type Rng } from './random.js';
export { applyRandomEdits, type EditKind, type EditRecord, type RandomEditOptions } from './random-edits.js';
export {
  runDifferential,
  fuzzPlan,
  DifferentialError,
  type DifferentialEdits,
  type DifferentialOptions,
  type DifferentialProgram,
  type DifferentialStep,
  type FuzzPlan,
} from './differential.js';
export {
  leftOutFiles,
  realProject,
  type RealCheckpoint,
  type RealCheckpointOptions,
  type RealProject,
  type RealProjectOptions,
  type RealScenario,
  type RealScenarioResult,
  type TreeCommand,
} from './real-project.js';
export { scenarioHarness, programOutput, type Scenario, type ScenarioHarnessOptions, type ScenarioResult } from './scenario.js';
