/**
 * Reads what `cargo build -v` did from its stderr, for the run's summary:
 * ```text
 *        Fresh hello-leaf v0.1.0 (/w/crates/hello-leaf)
 *        Dirty hello-leaf v0.1.0 (/w/crates/hello-leaf): the file `crates/hello-leaf/src/lib.rs` has changed (…)
 *    Compiling hello-leaf v0.1.0 (/w/crates/hello-leaf)
 *      Running `… rustc --crate-name hello_leaf --edition=2021 …`
 *      Running `/w/target/debug/build/hello-gen-…/build-script-build`
 * ```
 *
 * @packageDocumentation
 */

/** What one `cargo build -v` run did. */
export interface CargoBuildLog {
  /** Packages cargo reported `Fresh`. */
  readonly fresh: string[];
  /** Packages cargo reported `Compiling`. */
  readonly compiling: string[];
  /** `--crate-name` of every rustc invocation, in order. */
  readonly rustc: string[];
  /** Build-script directories (`<pkg>-<hash>`) whose script ran. */
  readonly scripts: string[];
  /** `Dirty` lines: why cargo rebuilt a package. */
  readonly dirty: string[];
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Parses the stderr of `cargo build -v`. */
export function parseCargoBuildLog(stderr: string): CargoBuildLog {
  const log: CargoBuildLog = { fresh: [], compiling: [], rustc: [], scripts: [], dirty: [] };
  for (const raw of stderr.split('\n')) {
    const line = raw.replace(ANSI, '').trim();
    let m = /^Fresh (\S+) v/.exec(line);
    if (m?.[1]) {
      log.fresh.push(m[1]);
      continue;
    }
    m = /^Compiling (\S+) v/.exec(line);
    if (m?.[1]) {
      log.compiling.push(m[1]);
      continue;
    }
    if (line.startsWith('Dirty ')) {
      log.dirty.push(line.slice('Dirty '.length));
      continue;
    }
    if (!line.startsWith('Running `')) continue;
    m = /\/build\/([^/\s`]+)\/build-script-build`?$/.exec(line.replace(/`$/, '`'));
    if (m?.[1]) {
      log.scripts.push(m[1]);
      continue;
    }
    m = /(?:^|\s|`)\S*rustc\S*\s.*?--crate-name (\S+)/.exec(line);
    if (m?.[1]) log.rustc.push(m[1]);
  }
  return log;
}

/** One line for the log: `3 rustc invocations (a, b, c); build scripts run: x; 2 packages fresh`. */
export function describeBuildLog(log: CargoBuildLog): string {
  const parts = [
    log.rustc.length === 0 ? 'no rustc invocation' : `${log.rustc.length} rustc invocation(s) (${log.rustc.join(', ')})`,
    log.scripts.length === 0 ? 'no build script run' : `build scripts run: ${log.scripts.join(', ')}`,
    `${log.fresh.length} package(s) fresh`,
  ];
  return parts.join('; ');
}

/** One rustc invocation of `cargo build -v`: the crate, its type and the source it starts from. */
export interface RustcInvocation {
  readonly crateName: string;
  /** `--crate-type` (the first one); `bin` when none is given. */
  readonly crateType: string;
  /** The crate root as cargo passed it (relative to the workspace root, or absolute). */
  readonly source: string | undefined;
}

/** Every rustc invocation of a `cargo build -v` stderr, in order. */
export function parseRustcInvocations(stderr: string): RustcInvocation[] {
  const out: RustcInvocation[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.replace(ANSI, '').trim();
    if (!line.startsWith('Running `')) continue;
    const words = line.slice('Running `'.length).replace(/`$/, '').split(/\s+/);
    const at = words.indexOf('--crate-name');
    const crateName = at >= 0 ? words[at + 1] : undefined;
    if (crateName === undefined || crateName === '___') continue;
    const typeAt = words.indexOf('--crate-type');
    const source = words.slice(at).find((word) => word.endsWith('.rs') && !word.startsWith('-'));
    out.push({ crateName, crateType: typeAt >= 0 ? (words[typeAt + 1] ?? 'bin') : 'bin', source });
  }
  return out;
}

/** The package a `Dirty` line is about, and its reason: `hello-leaf v0.1.0 (/w/…): the file … has changed` → `hello-leaf`. */
export function tryParseDirty(line: string): { readonly package: string; readonly reason: string } | undefined {
  const m = /^(\S+) v\S+(?: \([^)]*\))?: (.*)$/.exec(line);
  return m?.[1] && m[2] !== undefined ? { package: m[1], reason: m[2] } : undefined;
}
