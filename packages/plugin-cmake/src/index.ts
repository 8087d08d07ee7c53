/**
 * @orchestrate/plugin-cmake: checkpoint builds for CMake projects (Ninja and
 * Unix Makefiles generators), relocatable between absolute paths.
 */
export { cmake, PLUGIN_NAME, type CMakeCheckpointData } from './plugin.js';
export { cmakeOptionsSchema, type CMakeOptions } from './options.js';
export {
  parseCMakeCache,
  readCMakeCacheInfo,
  tryGetCMakeCacheValue,
  type CMakeCache,
  type CMakeCacheEntry,
  type CMakeCacheInfo,
} from './cmake-cache.js';
export { parseNinjaLog, serializeNinjaLog, recomputeNinjaLogHashes, type NinjaLog } from './ninja-log.js';
export { parseNinjaDeps, encodeNinjaDeps, relocateDepsLog, type NinjaDepsLog } from './ninja-deps.js';
export { readNinjaCommands } from './ninja-commands.js';
export { cmake as default } from './plugin.js';
