/**
 * The zod builders plugins write their options schemas with (see
 * `validatePluginOptions`), exported as `z` from `@orchestrate/core`: the
 * core's own zod instance, so that a plugin's CommonJS bundle, which leaves
 * `@orchestrate/core` external, carries no copy of zod. (A bundled copy made
 * each first-party bundle ~130 kB larger and its load ~10 ms slower; all of
 * zod re-exported would add ~430 kB, mostly locales, to the CLI's bundle.)
 * Add a builder here when a plugin needs one.
 */
export {
  array,
  boolean,
  enum,
  int,
  literal,
  number,
  object,
  record,
  strictObject,
  string,
  toJSONSchema,
  tuple,
  union,
  type infer,
  type input,
  type output,
  type ZodType,
} from 'zod';
