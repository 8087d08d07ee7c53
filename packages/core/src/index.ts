/**
 * @orchestrate/core: the public API. Nothing deep is exported.
 */
export { Orchestrator, type OrchestratorOptions, type RunOptions } from './orchestrator.js';
export { createOrchestrator, type CreateOrchestratorOptions } from './setup.js';
export {
  Stage,
  type BuildExplanation,
  type BuildReport,
  type CheckpointCandidate,
  type ExplainedUnit,
  type RunExplanation,
  type CheckpointLookup,
  type CheckpointQuery,
  type FileTransformInfo,
  type Fingerprint,
  type OutputSelection,
  type HookName,
  type OrchestratorHooks,
  type PluginHooks,
  type Refusal,
  type RestorePlan,
  type RestoreResult,
  type StateFileSpec,
  type StateSelection,
  type StepResult,
} from './hooks.js';
export type { BuildContext, BuildMode, CheckpointChoice, ExecOptions, ExecResult, WorkingTree } from './context.js';
export { selectCheckpoint } from './checkpoint/select.js';
export { relativeInside } from './checkpoint/paths.js';
export { CONFIG_SEARCH_PLACES } from './config/load-config.js';
export { checkpointData, type CheckpointData } from './checkpoint/plugin-data.js';
export {
  placeholderPairs,
  replaceRoots,
  rootPairs,
  ROOT_PLACEHOLDER,
  ROOTS_TRANSFORM,
  spellingsOf,
  type RootSpellings,
} from './checkpoint/roots.js';
export { isPlugin, type Plugin, type PluginApi, type PluginOption } from './plugin.js';
export { validatePluginOptions, type ValidatePluginOptionsSettings } from './plugin-options.js';
export * as z from './zod.js';
export { defineConfig, type OrchestrateConfig } from './config/define-config.js';
export type { ConfigDraft, ConfigEnv, ResolvedConfig, UserConfig } from './config/schema.js';
export {
  BuildToolError,
  ConfigError,
  ExitCode,
  InterruptedError,
  isOrchestrateError,
  OrchestrateError,
  PluginError,
  PluginLoadError,
  PluginOptionsError,
  StoreError,
  TreeBusyError,
  UsageError,
} from './errors.js';
export { createLogger, type Logger, type LogRecord, type LogSink } from './logger.js';
export { runProcess, type RunProcessOptions, type RunProcessResult } from './process.js';
export { changedPaths, changeCount, type ChangeSet, type SourceEntry, type SourceKind } from './sources/manifest.js';
export { gitBlobId, sha256 } from './sources/hash.js';
export { listFiles } from './sources/walk.js';
export { isBinaryOutput } from './verify/outputs.js';
export { explainProject, type ExplainOptions, type ExplainResult } from './explain/explain.js';
export { analyzeExplanation, type AnalyzedUnit, type Explanation, type ExplainLayout, type UnitCause } from './explain/analyze.js';
export type { CheckpointManifest, CheckpointRef, StateRecord, SourceRecord } from './checkpoint/manifest.js';
export { toolIdentity, tryWhich, compareFingerprints, describeDifferences } from './checkpoint/fingerprint.js';
export { setTimes, tryMtimeNs, probeGranularity } from './checkpoint/times.js';
export { isNixBuild, tryCacheDir, tryCacheHome, type CacheHomeSource } from './cache-home.js';
export { CheckpointRefusedError, isCheckpointRefusal } from './checkpoint/restore.js';
export { isBinaryContent, relocateText, RelocateTextError, rootMapper, type RelocateTextResult } from './checkpoint/relocate-text.js';
export { LocalStore } from './store/local-store.js';
export type { CheckpointStore, GcResult, LoadedCheckpoint } from './store/store.js';
