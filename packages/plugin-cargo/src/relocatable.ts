/**
 * The cargo plugin's `relocatable` option: every rustc cargo runs gets
 * `--remap-path-prefix=<dir>=.` for the workspace root and the build
 * directory, so rlibs, rmeta, proc-macros, build scripts and binaries name no
 * absolute directory of the checkout (README "Paths").
 *
 * Not through `RUSTFLAGS`: cargo hashes its flags into every unit's
 * fingerprint, and the directories differ from one checkout to the next by
 * design, so a checkpoint would be stale everywhere but where it was built.
 * A `RUSTC_WRAPPER` adds the flags instead: cargo hashes what the wrapped
 * `rustc -vV` prints, not the wrapper, and the wrapper lies at one path per
 * machine. A user's own `RUSTC_WRAPPER` (sccache) is run by it.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryCacheDir } from '@orchestrate/core';

const WRAPPER = `#!/bin/sh
# orchestrate's cargo plugin, option 'relocatable': rustc with each root of the checkout mapped to '.'.
# cargo runs: <this> <rustc> <args>; the roots come in ORCHESTRATE_REMAP_PATH_PREFIXES, one per line.
old_ifs=$IFS
IFS='
'
for prefix in $ORCHESTRATE_REMAP_PATH_PREFIXES; do
  set -- "$@" "--remap-path-prefix=$prefix=."
done
IFS=$old_ifs
if [ -n "$ORCHESTRATE_RUSTC_WRAPPER" ]; then exec "$ORCHESTRATE_RUSTC_WRAPPER" "$@"; fi
exec "$@"
`;

/** The wrapper script's path, written once per machine (per content) under the cache home, else the temporary directory. */
export function remapWrapper(env: Readonly<Record<string, string | undefined>>): string {
  const dir = tryCacheDir('cargo', env) ?? join(tmpdir(), 'orchestrate-cargo');
  const file = join(dir, `remap-rustc-${createHash('sha256').update(WRAPPER).digest('hex').slice(0, 12)}.sh`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, WRAPPER);
  chmodSync(temp, 0o755);
  renameSync(temp, file);
  return file;
}

/**
 * The environment cargo runs with under `relocatable`: the wrapper, the roots
 * (the longest last: rustc uses the last matching prefix), and the user's own
 * wrapper passed on.
 */
export function relocatableEnv(env: Readonly<Record<string, string | undefined>>, roots: readonly string[]): Record<string, string> {
  const prefixes = [...new Set(roots)].sort((a, b) => a.length - b.length);
  const own = env['RUSTC_WRAPPER'];
  return {
    RUSTC_WRAPPER: remapWrapper(env),
    ORCHESTRATE_REMAP_PATH_PREFIXES: prefixes.join('\n'),
    ...(own ? { ORCHESTRATE_RUSTC_WRAPPER: own } : {}),
  };
}
