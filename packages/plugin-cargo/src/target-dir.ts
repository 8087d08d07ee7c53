/**
 * Where cargo puts a workspace's build output.
 *
 * `target_directory` holds final artifacts; `build_directory` (cargo ≥ 1.91,
 * `build.build-dir`) holds the intermediate state that decides freshness
 * (`.fingerprint/`, `deps/`, `build/`, `incremental/`). They are the same
 * directory unless `build.build-dir` / `CARGO_BUILD_BUILD_DIR` says otherwise.
 *
 * @packageDocumentation
 */
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { runProcess } from '@orchestrate/core';

/** Options of {@link resolveTargetDir} and {@link readCargoDirs}. */
export interface ResolveTargetDirOptions {
  /** Environment cargo would see. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The cargo executable. @default "cargo" */
  readonly cargo?: string;
}

/** Result of {@link resolveTargetDir}. */
export interface TargetDirResult {
  /** Absolute target directory. */
  readonly targetDir: string;
  /** Where it came from. */
  readonly source: 'env' | 'metadata';
}

/** A workspace member as `cargo metadata` reports it. */
export interface CargoPackage {
  readonly name: string;
  /** Absolute directory of its `Cargo.toml`. */
  readonly manifestDir: string;
}

/** The directories reported by `cargo metadata`. */
export interface CargoDirs {
  readonly workspaceRoot: string;
  readonly targetDir: string;
  /** `build_directory` when cargo reports it (≥ 1.91), else the target dir. */
  readonly buildDir: string;
  /** The workspace members. */
  readonly packages: readonly CargoPackage[];
}

/** Thrown when `cargo metadata` fails or prints something unexpected. */
export class CargoMetadataError extends Error {
  /** Stable error code. */
  readonly code = 'ERR_CARGO_METADATA';
  /** The workspace directory cargo ran in. */
  readonly cwd: string;
  constructor(message: string, cwd: string, options?: { cause?: unknown }) {
    super(`cargo metadata failed in "${cwd}": ${message}`, options);
    this.name = 'CargoMetadataError';
    this.cwd = cwd;
  }
}

/**
 * Runs `cargo metadata --format-version 1 --no-deps --offline` in `workspaceDir`
 * and returns its workspace root, target and build directories.
 *
 * @throws {@link CargoMetadataError}
 */
export async function readCargoDirs(workspaceDir: string, options: ResolveTargetDirOptions = {}): Promise<CargoDirs> {
  const cwd = path.resolve(workspaceDir);
  const result = await runProcess(options.cargo ?? 'cargo', ['metadata', '--format-version', '1', '--no-deps', '--offline'], {
    cwd,
    env: options.env ?? process.env,
  });
  if (result.failed) {
    const tail = result.error ? result.error.message : result.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new CargoMetadataError(tail, cwd, { cause: result.error });
  }
  const stdout = result.stdout;
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (error) {
    throw new CargoMetadataError('output is not JSON', cwd, { cause: error });
  }
  const m = json as {
    target_directory?: unknown;
    build_directory?: unknown;
    workspace_root?: unknown;
    packages?: { name?: unknown; manifest_path?: unknown }[];
  };
  if (typeof m.target_directory !== 'string' || typeof m.workspace_root !== 'string') {
    throw new CargoMetadataError('no "target_directory" or "workspace_root" in the output', cwd);
  }
  return {
    workspaceRoot: m.workspace_root,
    targetDir: m.target_directory,
    buildDir: typeof m.build_directory === 'string' ? m.build_directory : m.target_directory,
    packages: (Array.isArray(m.packages) ? m.packages : []).flatMap((p) =>
      typeof p.name === 'string' && typeof p.manifest_path === 'string'
        ? [{ name: p.name, manifestDir: path.dirname(p.manifest_path) }]
        : [],
    ),
  };
}

/**
 * Resolves a workspace's target directory: `CARGO_TARGET_DIR` (relative values are
 * resolved against `workspaceDir`, the directory cargo runs in) without spawning
 * anything, otherwise `cargo metadata`'s `target_directory` (which applies
 * `.cargo/config.toml` `build.target-dir` and `CARGO_BUILD_TARGET_DIR`).
 *
 * Use {@link readCargoDirs} when the build directory matters too.
 *
 * @throws {@link CargoMetadataError}
 */
export async function resolveTargetDir(workspaceDir: string, options: ResolveTargetDirOptions = {}): Promise<TargetDirResult> {
  const fromEnv = (options.env ?? process.env)['CARGO_TARGET_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') {
    return { targetDir: path.resolve(workspaceDir, fromEnv), source: 'env' };
  }
  const dirs = await readCargoDirs(workspaceDir, options);
  return { targetDir: dirs.targetDir, source: 'metadata' };
}

/**
 * Predicts cargo's build directory without running cargo, in the common case
 * where nothing can move it: the directory's own `Cargo.toml` has a
 * `[workspace]` table (so it is the workspace root, with no parent workspace
 * to look for), no `CARGO_TARGET_DIR`, `CARGO_BUILD_TARGET_DIR` or
 * `CARGO_BUILD_BUILD_DIR` is set, and no cargo config file cargo would read
 * mentions `target-dir`, `build-dir` or `include`. Then cargo builds in
 * `<root>/target`. `undefined` whenever any of that is not certain.
 *
 * It lets `cargo metadata` run beside the rest of the start-up instead of
 * before it; the plugin compares its answer with the prediction as soon as
 * it arrives and warns when they differ, as for a configured `buildDir`.
 *
 * @param configFiles every cargo config file cargo reads for this directory (see `cargoConfigFiles`)
 */
export function tryPredictBuildDir(
  workspaceDir: string,
  env: Readonly<Record<string, string | undefined>>,
  configFiles: readonly string[],
): string | undefined {
  if (['CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET_DIR', 'CARGO_BUILD_BUILD_DIR'].some((name) => env[name] !== undefined)) return undefined;
  // Synchronous reads: a dozen small files, read while cargo metadata and the tool probes start;
  // through the thread pool, busy with those, they took 40 ms on the benchmark machine.
  let root: string;
  let manifest: string;
  try {
    root = realpathSync(workspaceDir);
    manifest = readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
  } catch {
    return undefined;
  }
  if (!/^\s*\[workspace\]\s*(?:#.*)?$/m.test(manifest)) return undefined;
  for (const file of configFiles) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return undefined;
    }
    if (/target-dir|build-dir|\binclude\b/.test(text)) return undefined;
  }
  return path.join(root, 'target');
}
