/**
 * The build state of a CMake binary directory: every file in it, minus what
 * CMake never reads again (see the README for the list and the reasons).
 */

/** Paths (relative to the binary directory) that are not worth restoring, with the reason. */
const EXCLUDED: readonly { readonly pattern: RegExp; readonly why: string }[] = [
  // try_compile() scratch projects: created and removed by each configure.
  { pattern: /^CMakeFiles\/(CMakeTmp|CMakeScratch)(\/|$)/, why: 'try_compile scratch space' },
  // Compiler identification sources and binaries: CMake reads only CMakeFiles/<ver>/CMake<Lang>Compiler.cmake afterwards.
  { pattern: /^CMakeFiles\/[^/]+\/CompilerId[^/]*(\/|$)/, why: 'compiler identification scratch' },
  { pattern: /^CMakeFiles\/[^/]+\/CMakeDetermineCompilerABI_[^/]*\.bin$/, why: 'compiler ABI probe binary' },
  // Configure logs: appended to, never read.
  { pattern: /^CMakeFiles\/(CMakeOutput\.log|CMakeError\.log|CMakeConfigureLog\.yaml)$/, why: 'configure log' },
  // Ninja's lock file exists only while ninja runs; the core's time probes.
  { pattern: /^\.ninja_lock$/, why: 'ninja lock' },
  { pattern: /(^|\/)\.orchestrate-probe-[^/]*$/, why: 'orchestrate probe' },
];

/** Why `path` is not captured, or `undefined` when it is. */
export function tryExclusionReason(path: string): string | undefined {
  return EXCLUDED.find((rule) => rule.pattern.test(path))?.why;
}

// <dir>/CMakeFiles/<target>.dir/<source path relative to <dir>>.o[.d]
const OBJECT = /^((?:[^/]+\/)*?)CMakeFiles\/[^/]+\.dir\/(.+)\.(?:o|obj)(?:\.d)?$/;

/**
 * The source (relative to the source directory) an object or its dependency
 * file was compiled from, by CMake's object naming; `undefined` for other files.
 * Only sources inside the source tree are recognised (CMake names others `__/…`).
 */
export function trySourceOfObject(statePath: string): string | undefined {
  const match = OBJECT.exec(statePath);
  if (!match) return undefined;
  const source = `${match[1] ?? ''}${match[2] ?? ''}`;
  return source.split('/').includes('__') ? undefined : source;
}
