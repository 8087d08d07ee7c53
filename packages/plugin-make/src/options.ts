/** Options of the make plugin. */
export interface MakeOptions {
  /** The make program. @default "make" */
  command?: string;
  /** Makefile passed with `-f`, relative to the source directory. @default make's own search */
  makefile?: string;
  /** Targets to build. @default make's default goal */
  targets?: string[];
  /** Variables passed on the command line (`NAME=value`); part of the fingerprint. */
  variables?: Record<string, string>;
  /** Parallel jobs (`-j`). @default the number of cores */
  jobs?: number;
  /**
   * A separate object directory, relative to the project directory: the whole
   * directory is the build state. Pass it to your Makefile through `variables`
   * (e.g. `{ "OBJDIR": "build" }`). @default in-source: the files the build creates or changes
   */
  objDir?: string;
  /** Globs (relative to the source directory) of the makefiles whose change make cannot see. */
  buildFiles?: string[];
  /**
   * What a changed makefile means: `full` refuses the checkpoint (make does not
   * notice changed recipes or flags), `incremental` trusts make's own
   * dependencies on its makefiles. @default "full"
   */
  onBuildFileChange?: 'full' | 'incremental';
  /** Build in full with `-B` (always make) so a warm tree cannot hide a change. @default true */
  alwaysMakeOnFull?: boolean;
}

export const DEFAULT_BUILD_FILES = ['**/Makefile', '**/makefile', '**/GNUmakefile', '**/*.mk', '**/*.make'];

/** Environment variables make and the compilers read, part of the fingerprint. */
export const FINGERPRINT_ENV = ['CC', 'CXX', 'CPP', 'AR', 'LD', 'CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS', 'LDLIBS', 'TARGET_ARCH'];
