/**
 * The CMake plugin's options: the schema is the single source of their type
 * and of their validation (unknown keys are rejected).
 */
import { z } from '@orchestrate/core';

/** The package name, which starts every options error. */
export const PACKAGE_NAME = '@orchestrate/plugin-cmake';

const positiveWholeNumber = { error: 'a positive whole number' };

/** The CMake plugin's options, for {@link cmake}; every key optional. */
export const cmakeOptionsSchema = z.strictObject({
  /** CMake generator (`-G`). Only single-config generators are supported. @default "Ninja" */
  generator: z.enum(['Ninja', 'Unix Makefiles']).optional(),
  /** `CMAKE_BUILD_TYPE`, passed as `-DCMAKE_BUILD_TYPE=…` when set. @default the project's own default */
  buildType: z.string().optional(),
  /** Further `cmake` configure arguments (`-DNAME=value`, `--toolchain file`…); part of the fingerprint. */
  cacheArgs: z.array(z.string()).optional(),
  /** Targets to build (`cmake --build … --target …`). @default the `all` target */
  targets: z.array(z.string()).optional(),
  /** Parallel jobs (`--parallel`). @default the number of cores */
  jobs: z.int(positiveWholeNumber).positive(positiveWholeNumber).optional(),
  /** The binary directory, relative to the project directory, when the config has no `buildDir`. @default "build" */
  buildDir: z.string().min(1).optional(),
  /** The cmake program. @default "cmake" */
  cmake: z.string().min(1).optional(),
  /**
   * At another path, restore binary state files that name the old absolute
   * directories too (a build RUNPATH, objects with debug info). By default
   * they are left out, so the build makes them again; restored, they may load
   * the old tree's libraries or differ from a clean build's. @default false
   */
  allowPathsInBinaries: z.boolean().optional(),
  /**
   * Make the build's outputs path-independent: configure adds
   * `-ffile-prefix-map=<source dir>=. -ffile-prefix-map=<build dir>=.` to
   * `CMAKE_C_FLAGS` and `CMAKE_CXX_FLAGS` (after `CFLAGS`/`CXXFLAGS`, or a
   * `-DCMAKE_<LANG>_FLAGS=` of `cacheArgs`), so objects with debug info or
   * `__FILE__` name no absolute directory and a checkpoint restores in full at
   * any path. Part of the fingerprint (the directories are not). @default false
   */
  relocatable: z.boolean().optional(),
});

/** Options of the CMake plugin, as {@link cmakeOptionsSchema} takes them. */
export type CMakeOptions = z.input<typeof cmakeOptionsSchema>;

/** Environment variables CMake and the compilers read at configure or compile time; every `CMAKE_*` variable is added. */
export const FINGERPRINT_ENV = [
  'CC',
  'CXX',
  'CFLAGS',
  'CXXFLAGS',
  'CPPFLAGS',
  'LDFLAGS',
  'CPATH',
  'C_INCLUDE_PATH',
  'CPLUS_INCLUDE_PATH',
  'LIBRARY_PATH',
];

/** `CMAKE_*` environment variables that change how fast, not what, is built. */
export const UNFINGERPRINTED_CMAKE_ENV = new Set(['CMAKE_BUILD_PARALLEL_LEVEL', 'CMAKE_COLOR_DIAGNOSTICS', 'CMAKE_NO_VERBOSE']);

/**
 * The compiler flags of {@link cmakeOptionsSchema}'s `relocatable`: each root
 * mapped to `.`, the longest last (GCC and Clang try the last match first).
 */
export function prefixMapFlags(sourceDir: string, buildDir: string): string[] {
  return [...new Set([sourceDir, buildDir])].sort((a, b) => a.length - b.length).map((dir) => `-ffile-prefix-map=${dir}=.`);
}

/**
 * `cacheArgs` with the prefix maps appended to `CMAKE_C_FLAGS` and
 * `CMAKE_CXX_FLAGS`: to the user's `-D` of them when there is one, else to the
 * environment's `CFLAGS`/`CXXFLAGS` (which CMake would have taken).
 */
export function withPrefixMaps(
  cacheArgs: readonly string[],
  flags: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const out = [...cacheArgs];
  for (const [variable, envName] of [
    ['CMAKE_C_FLAGS', 'CFLAGS'],
    ['CMAKE_CXX_FLAGS', 'CXXFLAGS'],
  ] as const) {
    const pattern = new RegExp(`^-D${variable}(:STRING)?=`);
    const index = out.findLastIndex((arg) => pattern.test(arg));
    if (index >= 0) out[index] = [out[index], ...flags].join(' ');
    else out.push(`-D${variable}=${[env[envName] ?? '', ...flags].join(' ').trim()}`);
  }
  return out;
}
