/**
 * Reading `CMakeCache.txt` (Kitware/CMake `Source/cmCacheManager.cxx`,
 * `cmState::ParseCacheEntry`).
 *
 * ```
 * // help text, one or more lines
 * KEY:TYPE=VALUE
 * "KEY:WITH:COLONS":TYPE=VALUE
 * # comment
 * ```
 *
 * @packageDocumentation
 */

/** One `KEY:TYPE=VALUE` cache entry. */
export interface CMakeCacheEntry {
  readonly key: string;
  /** `BOOL`, `PATH`, `FILEPATH`, `STRING`, `INTERNAL`, `STATIC`, `UNINITIALIZED`… as written. */
  readonly type: string;
  readonly value: string;
  /** The `//` help lines just above the entry, without the `//`. */
  readonly help: readonly string[];
  /** 1-based line number in the file. */
  readonly line: number;
}

/** A parsed cache: entries by key; a key given twice keeps the last value, as CMake does. */
export interface CMakeCache {
  readonly entries: ReadonlyMap<string, CMakeCacheEntry>;
}

/** Thrown for a cache file CMake itself could not load, or one lacking a required entry. */
export class CMakeCacheError extends Error {
  override readonly name = 'CMakeCacheError';
  readonly code: 'CMAKE_CACHE_PARSE' | 'CMAKE_CACHE_MISSING_ENTRY';

  constructor(code: CMakeCacheError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

// The two regular expressions of cmState::ParseCacheEntry; trailing blanks
// are dropped from the value unless the value is only blanks.
const QUOTED_ENTRY = /^"([^"]*)":([^=]*)=(.*[^\r\t ]|[\r\t ]*)[\r\t ]*$/s;
const ENTRY = /^([^=:]*):([^=]*)=(.*[^\r\t ]|[\r\t ]*)[\r\t ]*$/s;

/**
 * Parses `CMakeCache.txt`.
 *
 * @param content - the file content; a buffer is decoded as UTF-8.
 * @throws {@link CMakeCacheError} `CMAKE_CACHE_PARSE` on a line CMake would
 *   reject ("Parse error in cache file"), quoting the line and its number.
 */
export function parseCMakeCache(content: string | Uint8Array): CMakeCache {
  const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  const entries = new Map<string, CMakeCacheEntry>();
  let help: string[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.replace(/\r$/, '').replace(/^[ \t\r\n\f\v]+/, '');
    if (line.startsWith('//')) {
      help.push(line.slice(2));
      return;
    }
    if (line === '' || line.startsWith('#')) {
      help = [];
      return;
    }
    const match = QUOTED_ENTRY.exec(line) ?? ENTRY.exec(line);
    if (!match) {
      throw new CMakeCacheError(
        'CMAKE_CACHE_PARSE',
        `Parse error in CMakeCache.txt line ${index + 1}: ${JSON.stringify(line)} is not KEY:TYPE=VALUE.`,
      );
    }
    let value = match[3] ?? '';
    // Values with trailing blanks are written between single quotes.
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    const key = match[1] ?? '';
    entries.delete(key); // keep file order of the surviving definition
    entries.set(key, { key, type: match[2] ?? '', value, help, line: index + 1 });
    help = [];
  });
  return { entries };
}

/** The value of `key`, or `undefined` when the cache has no such entry. */
export function tryGetCMakeCacheValue(cache: CMakeCache, key: string): string | undefined {
  return cache.entries.get(key)?.value;
}

/** The entries that tie a build dir to its source dir, tools and machine. */
export interface CMakeCacheInfo {
  /** `CMAKE_HOME_DIRECTORY`: the top-level source dir. */
  readonly homeDirectory: string;
  /** `CMAKE_CACHEFILE_DIR`: the build dir the cache was created in. */
  readonly cacheFileDir: string;
  /** `CMAKE_COMMAND`: the cmake executable that configured the tree. */
  readonly command: string;
  /** `CMAKE_GENERATOR`, e.g. `Ninja` or `Unix Makefiles`. */
  readonly generator: string;
  /** `CMAKE_MAKE_PROGRAM`, when set. */
  readonly makeProgram?: string;
  /** `CMAKE_C_COMPILER`, when the C language is enabled. */
  readonly cCompiler?: string;
  /** `CMAKE_CXX_COMPILER`, when the C++ language is enabled. */
  readonly cxxCompiler?: string;
  /** `CMAKE_BUILD_TYPE`, when set (single-config generators). */
  readonly buildType?: string;
  /** `major.minor.patch` of the cmake that wrote the cache, from `CMAKE_CACHE_*_VERSION`. */
  readonly cmakeVersion?: string;
}

function required(cache: CMakeCache, key: string): string {
  const value = tryGetCMakeCacheValue(cache, key);
  if (value === undefined || value === '') {
    throw new CMakeCacheError('CMAKE_CACHE_MISSING_ENTRY', `CMakeCache.txt has no ${key} entry; was the build dir configured by cmake?`);
  }
  return value;
}

/**
 * Extracts {@link CMakeCacheInfo}.
 *
 * @throws {@link CMakeCacheError} `CMAKE_CACHE_MISSING_ENTRY` when
 *   `CMAKE_HOME_DIRECTORY`, `CMAKE_CACHEFILE_DIR`, `CMAKE_COMMAND` or
 *   `CMAKE_GENERATOR` is missing or empty.
 */
export function readCMakeCacheInfo(cache: CMakeCache): CMakeCacheInfo {
  const optional = (key: string): string | undefined => {
    const value = tryGetCMakeCacheValue(cache, key);
    return value === undefined || value === '' ? undefined : value;
  };
  const major = optional('CMAKE_CACHE_MAJOR_VERSION');
  const minor = optional('CMAKE_CACHE_MINOR_VERSION');
  const patch = optional('CMAKE_CACHE_PATCH_VERSION');
  const makeProgram = optional('CMAKE_MAKE_PROGRAM');
  const cCompiler = optional('CMAKE_C_COMPILER');
  const cxxCompiler = optional('CMAKE_CXX_COMPILER');
  const buildType = optional('CMAKE_BUILD_TYPE');
  return {
    homeDirectory: required(cache, 'CMAKE_HOME_DIRECTORY'),
    cacheFileDir: required(cache, 'CMAKE_CACHEFILE_DIR'),
    command: required(cache, 'CMAKE_COMMAND'),
    generator: required(cache, 'CMAKE_GENERATOR'),
    ...(makeProgram === undefined ? {} : { makeProgram }),
    ...(cCompiler === undefined ? {} : { cCompiler }),
    ...(cxxCompiler === undefined ? {} : { cxxCompiler }),
    ...(buildType === undefined ? {} : { buildType }),
    ...(major === undefined || minor === undefined || patch === undefined ? {} : { cmakeVersion: `${major}.${minor}.${patch}` }),
  };
}
