/**
 * Validating a plugin factory's options against the plugin's zod schema, with
 * messages that name the plugin, the option and what it expects.
 */
import * as z from 'zod';
import { isOrchestrateError, PluginOptionsError } from './errors.js';

/** Settings of {@link validatePluginOptions}. */
export interface ValidatePluginOptionsSettings {
  /**
   * What to suggest for unknown keys that are no misspelling of a known one,
   * e.g. `{ release: 'profile: "release"' }` (shown as `did you mean profile: "release"?`).
   */
  readonly suggestions?: Readonly<Record<string, string>>;
}

/** Issues named in one message; the rest are counted. */
const MAX_ISSUES = 5;

/**
 * Parses `options` with `schema` (a strict object, so that unknown keys are
 * rejected) and returns the parsed options. `undefined` stands for no options.
 *
 * @param plugin - the plugin's package name, which starts every message (`@orchestrate/plugin-make`)
 * @throws {@link PluginOptionsError} (code `ERR_PLUGIN_OPTIONS`) naming each
 * option at fault: `unknown option 'jobz', did you mean 'jobs'? (known: …)`,
 * `option 'jobs' expects a positive whole number, got "4"`. A schema's own
 * error messages should read as what the option expects ("a profile name").
 */
export function validatePluginOptions<Schema extends z.ZodType>(
  plugin: string,
  schema: Schema,
  options: unknown,
  settings: ValidatePluginOptionsSettings = {},
): z.output<Schema> {
  const parsed = schema.safeParse(options ?? {}, { error: expectation, reportInput: true });
  if (parsed.success) return parsed.data;
  // Unknown keys first: a misspelt key is the likelier cause of the rest.
  const issues = [...parsed.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  const keys: string[] = [];
  const parts: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        keys.push(formatPath([...issue.path, key]));
        const suggestion = settings.suggestions?.[key] ?? quoted(tryNearestKey(key, known));
        parts.push(
          `unknown option '${formatPath([...issue.path, key])}'${suggestion ? `, did you mean ${suggestion}?` : ''}` +
            (known.length > 0 ? ` (known: ${known.join(', ')})` : ''),
        );
      }
    } else {
      const path = formatPath(issue.path);
      keys.push(path);
      const got = 'input' in issue ? `, got ${describeValue(issue.input)}` : '';
      parts.push(`${path ? `option '${path}' expects` : 'the options must be'} ${issue.message}${got}`);
    }
  }
  const shown = parts.slice(0, MAX_ISSUES);
  if (parts.length > MAX_ISSUES) shown.push(`${parts.length - MAX_ISSUES} more`);
  throw new PluginOptionsError(plugin, shown.join('; '), { keys, cause: parsed.error });
}

/**
 * A plugin factory's options error again, naming the config file that gave
 * the options; `undefined` for any other error. The error may come from
 * another copy of the core (the plugin's), so it is recognised by its code
 * and fields, not its class.
 */
export function tryNameConfigFile(error: unknown, file: string | undefined): PluginOptionsError | undefined {
  if (!isOrchestrateError(error) || error.code !== 'ERR_PLUGIN_OPTIONS') return undefined;
  const { plugin, reason, keys } = error as Partial<PluginOptionsError>;
  if (typeof plugin !== 'string' || typeof reason !== 'string') return undefined;
  return new PluginOptionsError(plugin, reason, {
    file,
    keys: keys ?? [],
    cause: error,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
  });
}

/**
 * zod's messages for the common issues, worded as what the option expects;
 * a schema's own messages take precedence. `undefined`: zod's message.
 */
function expectation(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return 'a whole number';
      if (issue.expected === 'boolean') return 'true or false';
      if (issue.expected === 'record') return 'an object';
      return withArticle(issue.expected);
    case 'invalid_value':
      return issue.values.length === 1 ? describeValue(issue.values[0]) : `one of ${issue.values.map(describeValue).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'a non-empty string';
      if (issue.origin === 'array' || issue.origin === 'set') return `at least ${String(issue.minimum)} item(s)`;
      if (issue.origin === 'number' || issue.origin === 'int') {
        return Number(issue.minimum) === 0 && issue.inclusive !== true
          ? 'a positive number'
          : `a number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
      }
      return undefined;
    case 'too_big':
      if (issue.origin === 'string') return `a string of at most ${String(issue.maximum)} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `at most ${String(issue.maximum)} item(s)`;
      if (issue.origin === 'number' || issue.origin === 'int') return `a number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
      return undefined;
    case 'invalid_format':
      return issue.format === 'regex' && issue.pattern ? `a string matching ${issue.pattern}` : `a string in ${issue.format} format`;
    default:
      return undefined;
  }
}

function withArticle(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** A value as the user wrote it, shortened: `"4"`, `1.5`, `["a"]`, `a function`. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  let text: string;
  // String() only for what JSON cannot spell (a symbol) or cannot serialize (a cycle, a bigint inside): a best effort for a message.
  try {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `features[0]`, `variables.CC`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function quoted(key: string | undefined): string | undefined {
  return key === undefined ? undefined : `'${key}'`;
}

/** The keys of the object schema at `path` inside `schema`, in declaration order; [] when it is not an object. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.core.$ZodType | undefined = schema;
  for (let i = 0; ; i++) {
    current = unwrap(current);
    if (current === undefined) return [];
    const def: z.core.$ZodTypeDef = current._zod.def;
    if (i === path.length) return def.type === 'object' ? Object.keys((def as z.core.$ZodObjectDef).shape) : [];
    const part = path[i];
    if (def.type === 'object') current = (def as z.core.$ZodObjectDef).shape[String(part)];
    else if (def.type === 'array') current = (def as z.core.$ZodArrayDef).element;
    else if (def.type === 'record') current = (def as z.core.$ZodRecordDef).valueType;
    else return [];
  }
}

/** The schema under wrappers that do not change an object's keys. */
function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  for (;;) {
    const def = current?._zod.def;
    if (def === undefined) return current;
    if (
      def.type === 'optional' ||
      def.type === 'nullable' ||
      def.type === 'default' ||
      def.type === 'prefault' ||
      def.type === 'readonly' ||
      def.type === 'nonoptional'
    ) {
      current = (def as z.core.$ZodOptionalDef).innerType;
    } else if (def.type === 'pipe') {
      current = (def as z.core.$ZodPipeDef).in;
    } else {
      return current;
    }
  }
}

/**
 * The known key `key` is most likely a misspelling of: the same once case,
 * `-` and `_` are ignored (`build_type`, `buildtype`), else within a small
 * edit distance (one edit for short keys, two from six characters). `undefined`
 * when none is that close, or two are equally close.
 */
export function tryNearestKey(key: string, known: readonly string[]): string | undefined {
  const normal = (text: string): string => text.toLowerCase().replace(/[-_]/g, '');
  const same = known.filter((candidate) => normal(candidate) === normal(key));
  if (same.length === 1) return same[0];
  const limit = key.length >= 6 ? 2 : key.length >= 3 ? 1 : 0;
  let best: string | undefined;
  let bestDistance = limit + 1;
  let tie = false;
  for (const candidate of known) {
    const distance = editDistance(normal(key), normal(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      tie = false;
    } else if (distance === bestDistance) {
      tie = true;
    }
  }
  return best !== undefined && !tie ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      row[j] = d;
    }
  }
  return at(a.length, b.length);
}
