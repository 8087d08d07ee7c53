/**
 * `cargo -V` and `rustc -vV` for the fingerprint, kept across runs.
 *
 * Both commands are usually rustup proxies: each spawn loads rustup, resolves
 * the toolchain and runs the real tool, about 50 and 90 ms on the benchmark
 * machine, and together they made the fingerprint the slowest fixed cost of a
 * small build after `cargo metadata`. Their answer only changes when one of
 * these does, so the answer is kept under a key made of all of them:
 *
 * - the commands as given, the files they resolve to on `PATH` (real path,
 *   device, inode, size, mtime and ctime: an upgrade in place changes the
 *   ctime, which no one can set back);
 * - everything rustup picks the toolchain from (whether or not the commands
 *   are its proxies, which may be links or copies):
 *   `RUSTUP_HOME`, `RUSTUP_TOOLCHAIN`, `settings.toml` (the default toolchain
 *   and directory overrides), each `rust-toolchain` / `rust-toolchain.toml`
 *   from the workspace up (content and how many levels up), and the stamps of
 *   every installed toolchain's `bin/rustc` and `bin/cargo` (so `rustup update`
 *   or a rebuilt linked toolchain is seen).
 *
 * The workspace's absolute path is not in the key, so a fresh checkout at
 * another path finds the answer, except where it can matter: rustup directory
 * overrides (they are keyed by path) and toolchain files naming a toolchain by
 * path. A command that is not a file on `PATH`, a script (`#!`, whose output
 * may depend on anything), or a failed run is never kept.
 *
 * A wrong answer could not make a build stale: cargo hashes `rustc -vV` into
 * every unit's fingerprint and recompiles units built by another compiler. The
 * fingerprint entry only saves restoring a checkpoint that cargo would then
 * rebuild in full.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runProcess, tryCacheDir, tryWhich } from '@orchestrate/core';

type Env = Readonly<Record<string, string | undefined>>;

/** What the fingerprint records of the tools. */
export interface ToolVersions {
  /** `cargo -V`, lines joined by `; `. */
  readonly cargo: string;
  /** `rustc -vV`, lines joined by `; `. */
  readonly rustc: string;
}

/** Options of {@link toolVersions}. */
export interface ToolVersionsOptions {
  /** Where cargo runs (the workspace): a rust-toolchain.toml there counts. */
  readonly cwd: string;
  readonly env: Env;
  readonly cargo: string;
  readonly rustc: string;
  /**
   * Directory of the kept answers; `null` keeps none.
   * @default `<cache home>/orchestrate/cargo-tools` (see the core's `tryCacheDir`: none under a missing or read-only HOME, or under HOME in a Nix build)
   */
  readonly cacheDir?: string | null;
}

/** Where answers are kept unless told otherwise; `undefined` when there is no cache directory to write. */
export function tryDefaultCacheDir(env: Env): string | undefined {
  return tryCacheDir('cargo-tools', env);
}

async function versionOf(command: string, args: string[], cwd: string, env: Env): Promise<{ text: string; ok: boolean }> {
  const r = await runProcess(command, args, { cwd, env });
  const ok = r.exitCode === 0;
  return { text: ok ? r.stdout.trim().split('\n').join('; ') : `unavailable: ${command} ${args.join(' ')}`, ok };
}

async function stampOf(path: string): Promise<string> {
  const info = await stat(path, { bigint: true }).catch(() => undefined);
  return info ? [info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join(':') : 'missing';
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

/** The rustup part of the key; `undefined` when the answer must not be kept. */
async function rustupKey(cwd: string, env: Env): Promise<string[] | undefined> {
  const home = resolve(env['RUSTUP_HOME'] || join(env['HOME'] || homedir(), '.rustup'));
  const settings = await readFile(join(home, 'settings.toml'), 'utf8').catch(() => '');
  // Directory overrides apply by absolute path: keep nothing when there are any.
  const overrides = /^\s*\[overrides\]\s*$([\s\S]*?)(?=^\s*\[|(?![\s\S]))/m.exec(settings)?.[1] ?? '';
  if (/\S/.test(overrides.replace(/^\s*#.*$/gm, '')) || /^\s*overrides\s*=\s*\{\s*[^}\s]/m.test(settings)) return undefined;
  const parts = [`rustup-home=${home}`, `toolchain-env=${env['RUSTUP_TOOLCHAIN'] ?? ''}`, `settings=${settings}`];
  let dir = resolve(cwd);
  for (let up = 0; ; up++) {
    for (const name of ['rust-toolchain', 'rust-toolchain.toml']) {
      const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      if (/^\s*path\s*=/m.test(text)) return undefined; // a toolchain named by path
      parts.push(`toolchain-file=${up}/${name}=${text}`);
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const toolchains = await readdir(join(home, 'toolchains')).catch(() => [] as string[]);
  for (const name of toolchains.sort()) {
    parts.push(
      `toolchain=${name}:${await stampOf(join(home, 'toolchains', name, 'bin', 'rustc'))}:${await stampOf(join(home, 'toolchains', name, 'bin', 'cargo'))}`,
    );
  }
  return parts;
}

/** The key of an answer; `undefined` when it must not be kept. */
export async function toolVersionsKey(options: ToolVersionsOptions): Promise<string | undefined> {
  const parts: string[] = ['v1'];
  for (const command of [options.cargo, options.rustc]) {
    const found = await tryWhich(command, options.env['PATH'] ?? '');
    if (found === undefined) return undefined;
    const real = await realpath(resolve(options.cwd, found)).catch(() => undefined);
    if (real === undefined) return undefined;
    const info = await stat(real).catch(() => undefined);
    if (!info?.isFile() || (await isScript(real).catch(() => true))) return undefined;
    parts.push(`${command}=${real}@${await stampOf(real)}`);
  }
  // rustup's proxies are symbolic links, hard links or copies of rustup: rather than telling
  // them apart, rustup's state is always part of the key (an empty one without rustup).
  const rustup = await rustupKey(options.cwd, options.env);
  if (rustup === undefined) return undefined;
  parts.push(...rustup);
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/**
 * Returns `cargo -V` and `rustc -vV` as run in `cwd`, from the kept answer
 * when its key matches (see the module comment), else by running them.
 */
export async function toolVersions(options: ToolVersionsOptions): Promise<ToolVersions & { cached: boolean }> {
  const key = await toolVersionsKey(options).catch(() => undefined);
  const dir = options.cacheDir === undefined ? tryDefaultCacheDir(options.env) : (options.cacheDir ?? undefined);
  const file = key === undefined || dir === undefined ? undefined : join(dir, key);
  if (file !== undefined) {
    const known = await readFile(file, 'utf8').catch(() => undefined);
    if (known !== undefined) {
      try {
        const parsed = JSON.parse(known) as Partial<ToolVersions>;
        if (typeof parsed.cargo === 'string' && typeof parsed.rustc === 'string')
          return { cargo: parsed.cargo, rustc: parsed.rustc, cached: true };
      } catch {
        // damaged: run the tools again and write it anew
      }
    }
  }
  const [cargo, rustc] = await Promise.all([
    versionOf(options.cargo, ['-V'], options.cwd, options.env),
    versionOf(options.rustc, ['-vV'], options.cwd, options.env),
  ]);
  if (file !== undefined && cargo.ok && rustc.ok) {
    // Best effort: an answer that cannot be kept only costs the next run two spawns.
    const temp = `${file}.${process.pid}.tmp`;
    await mkdir(dirname(file), { recursive: true })
      .then(() => writeFile(temp, JSON.stringify({ cargo: cargo.text, rustc: rustc.text })))
      .then(() => rename(temp, file))
      .catch(() => undefined);
  }
  return { cargo: cargo.text, rustc: rustc.text, cached: false };
}
