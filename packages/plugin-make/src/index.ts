/**
 * @orchestrate/plugin-make: checkpoint builds for make projects.
 */
export { make, PLUGIN_NAME } from './plugin.js';
export { DEFAULT_BUILD_FILES, makeOptionsSchema, type MakeOptions } from './options.js';
export { parseDepFile } from './dep-files.js';
export { make as default } from './plugin.js';
