/**
 * The make plugin's options: the schema is the single source of their type
 * and of their validation (unknown keys are rejected).
 */
import { z } from '@orchestrate/core';

/** The package name, which starts every options error. */
export const PACKAGE_NAME = '@orchestrate/plugin-make';

const positiveWholeNumber = { error: 'a positive whole number' };

/** The make plugin's options, for {@link make}; every key optional. */
export const makeOptionsSchema = z.strictObject({
  /** The make program. @default "make" */
  command: z.string().min(1).optional(),
  /** Makefile passed with `-f`, relative to the source directory. @default make's own search */
  makefile: z.string().min(1).optional(),
  /** Targets to build. @default make's default goal */
  targets: z.array(z.string()).optional(),
  /** Variables passed on the command line (`NAME=value`); part of the fingerprint. */
  variables: z.record(z.string(), z.string({ error: 'a string (quote numbers: "1")' })).optional(),
  /** Parallel jobs (`-j`). @default the number of cores */
  jobs: z.int(positiveWholeNumber).positive(positiveWholeNumber).optional(),
  /**
   * A separate object directory, relative to the project directory: the whole
   * directory is the build state. Pass it to your Makefile through `variables`
   * (e.g. `{ "OBJDIR": "build" }`). @default in-source: the files the build creates or changes
   */
  objDir: z.string().min(1).optional(),
  /** Globs (relative to the source directory) of the makefiles whose change make cannot see. @default {@link DEFAULT_BUILD_FILES} */
  buildFiles: z.array(z.string()).optional(),
  /**
   * What a changed makefile means: `full` refuses the checkpoint (make does not
   * notice changed recipes or flags), `incremental` trusts make's own
   * dependencies on its makefiles. @default "full"
   */
  onBuildFileChange: z.enum(['full', 'incremental']).optional(),
  /** Build in full with `-B` (always make) so a warm tree cannot hide a change. @default true */
  alwaysMakeOnFull: z.boolean().optional(),
});

/** Options of the make plugin, as {@link makeOptionsSchema} takes them. */
export type MakeOptions = z.input<typeof makeOptionsSchema>;

export const DEFAULT_BUILD_FILES = ['**/Makefile', '**/makefile', '**/GNUmakefile', '**/*.mk', '**/*.make'];

/** Environment variables make and the compilers read, part of the fingerprint. */
export const FINGERPRINT_ENV = ['CC', 'CXX', 'CPP', 'AR', 'LD', 'CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS', 'LDLIBS', 'TARGET_ARCH'];
