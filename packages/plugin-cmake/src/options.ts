/** Options of the CMake plugin. */
export interface CMakeOptions {
  /** CMake generator (`-G`). Only single-config generators are supported. @default "Ninja" */
  generator?: 'Ninja' | 'Unix Makefiles';
  /** `CMAKE_BUILD_TYPE`, passed as `-DCMAKE_BUILD_TYPE=…` when set. @default the project's own default */
  buildType?: string;
  /** Further `cmake` configure arguments (`-DNAME=value`, `--toolchain file`…); part of the fingerprint. */
  cacheArgs?: string[];
  /** Targets to build (`cmake --build … --target …`). @default the `all` target */
  targets?: string[];
  /** Parallel jobs (`--parallel`). @default the number of cores */
  jobs?: number;
  /** The binary directory, relative to the project directory, when the config has no `buildDir`. @default "build" */
  buildDir?: string;
  /** The cmake program. @default "cmake" */
  cmake?: string;
  /**
   * At another path, restore binary state files that name the old absolute
   * directories too (a build RUNPATH, objects with debug info). By default
   * they are left out, so the build makes them again; restored, they may load
   * the old tree's libraries or differ from a clean build's. @default false
   */
  allowPathsInBinaries?: boolean;
}

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
