import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { isOrchestrateError, OrchestrateError, PluginOptionsError } from './errors.js';
import { tryNameConfigFile, tryNearestKey, validatePluginOptions } from './plugin-options.js';

const schema = z.strictObject({
  jobs: z.int().positive().optional(),
  targets: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  nested: z.strictObject({ depth: z.number().optional() }).optional(),
});

/** The error `validatePluginOptions` throws for `options`. */
function failure(options: unknown, suggestions?: Record<string, string>): PluginOptionsError {
  try {
    validatePluginOptions('example-plugin', schema, options, suggestions ? { suggestions } : {});
  } catch (error) {
    return error as PluginOptionsError;
  }
  throw new Error('expected the options to be rejected');
}

describe('validatePluginOptions', () => {
  it('returns the parsed options, and an empty object for none', () => {
    expect(validatePluginOptions('example-plugin', schema, { jobs: 2, targets: ['a'] })).toEqual({ jobs: 2, targets: ['a'] });
    expect(validatePluginOptions('example-plugin', schema, undefined)).toEqual({});
  });

  it('throws a config error with a stable code, the plugin and the keys at fault', () => {
    const error = failure({ jobz: 2 });
    expect(error).toBeInstanceOf(PluginOptionsError);
    expect(isOrchestrateError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_PLUGIN_OPTIONS', exitCode: 2, plugin: 'example-plugin', keys: ['jobz'], file: undefined });
    expect(error.message).toBe("example-plugin: unknown option 'jobz', did you mean 'jobs'? (known: jobs, targets, env, nested)");
  });

  it('names nested keys by path and lists the keys known there', () => {
    expect(failure({ nested: { dept: 1 } }).message).toBe(
      "example-plugin: unknown option 'nested.dept', did you mean 'depth'? (known: depth)",
    );
    expect(failure({ targets: ['a', 3], env: { CC: false } }).message).toBe(
      "example-plugin: option 'targets[1]' expects a string, got 3; option 'env.CC' expects a string, got false",
    );
  });

  it('says what the options must be when they are not an object', () => {
    expect(failure('fast').message).toBe('example-plugin: the options must be an object, got "fast"');
  });

  it('uses the given suggestion for a key that is no misspelling', () => {
    expect(failure({ parallel: true }, { parallel: 'jobs: <n>' }).message).toMatch(
      /^example-plugin: unknown option 'parallel', did you mean jobs: <n>\? /,
    );
  });

  it('names at most five problems and counts the rest', () => {
    const options = Object.fromEntries(['a1', 'b2', 'c3', 'd4', 'e5', 'f6', 'g7'].map((key) => [key, 1]));
    const error = failure(options);
    expect(error.keys).toHaveLength(7);
    expect(error.message).toMatch(/unknown option 'e5' \(known: [^)]*\); 2 more$/);
  });
});

describe('tryNearestKey', () => {
  const known = ['profile', 'features', 'allFeatures', 'noDefaultFeatures', 'target', 'targets', 'jobs'];

  it('matches names that differ in case, dashes and underscores only', () => {
    expect(tryNearestKey('no-default-features', known)).toBe('noDefaultFeatures');
    expect(tryNearestKey('ALL_FEATURES', known)).toBe('allFeatures');
  });

  it('matches a small misspelling, a swap of neighbours included', () => {
    expect(tryNearestKey('profle', known)).toBe('profile');
    expect(tryNearestKey('feautres', known)).toBe('features');
    expect(tryNearestKey('job', known)).toBe('jobs');
  });

  it('suggests nothing when no key is close, or two are equally close', () => {
    expect(tryNearestKey('release', known)).toBeUndefined();
    expect(tryNearestKey('x', known)).toBeUndefined();
    expect(tryNearestKey('targetz', known)).toBeUndefined(); // one edit from 'target' and from 'targets'
  });
});

describe('tryNameConfigFile', () => {
  it('names the config file in an options error from another copy of the core', () => {
    // What a plugin's copy of the core throws: the brand and the fields, another class.
    const foreign = Object.assign(new OrchestrateError('ERR_PLUGIN_OPTIONS', 'p: unknown option', 2), {
      plugin: 'p',
      reason: "unknown option 'x'",
      keys: ['x'],
    });
    const named = tryNameConfigFile(foreign, '/project/orchestrate.config.json');
    expect(named).toBeInstanceOf(PluginOptionsError);
    expect(named).toMatchObject({
      code: 'ERR_PLUGIN_OPTIONS',
      exitCode: 2,
      file: '/project/orchestrate.config.json',
      keys: ['x'],
      message: "/project/orchestrate.config.json: p: unknown option 'x'",
      cause: foreign,
    });
  });

  it('leaves other errors alone', () => {
    expect(tryNameConfigFile(new TypeError('boom'), '/project/orchestrate.config.json')).toBeUndefined();
    expect(tryNameConfigFile(new OrchestrateError('ERR_CONFIG', 'bad', 2), '/project/orchestrate.config.json')).toBeUndefined();
  });
});
