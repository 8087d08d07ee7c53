/**
 * The contents of the CLI bundle (`dist/bundle/core.cjs`): the public API,
 * which plugins import through `@orchestrate/core`, and the CLI process that
 * the launcher runs. One bundle, so both share one instance of every module.
 */
export * from './index.js';
export { runCliProcess } from './cli/run.js';
