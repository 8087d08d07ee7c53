/**
 * @orchestrate/plugin-cargo: checkpoint builds for cargo workspaces.
 */
export { cargo, CARGO_DATA_VERSION, PLUGIN_NAME, type CargoCheckpointData } from './plugin.js';
export {
  buildArgs,
  cargoOptionsSchema,
  profileDirName,
  profileDirs,
  resolveCargoOptions,
  type CargoOptions,
  type ResolvedCargoOptions,
} from './options.js';
export { FINGERPRINT_ENV, FINGERPRINT_ENV_PREFIXES, detectFreshness, type FreshnessMode } from './fingerprint.js';
export { parseCargoBuildLog, type CargoBuildLog } from './cargo-log.js';
export { parseDepInfo, encodeDepInfo, relocateDepInfo, type DepInfo, type DepInfoEntry } from './dep-info.js';
export { parseBuildOutput, findRootOccurrences, rewriteRoot, type BuildOutput, type BuildDirective } from './build-output.js';
export { readCargoDirs, resolveTargetDir, CargoMetadataError, type CargoDirs } from './target-dir.js';
export { listFingerprintUnits, listProfileDirs, type FingerprintUnit } from './fingerprint-files.js';
export { cargo as default } from './plugin.js';
