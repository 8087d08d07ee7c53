import { z } from '@orchestrate/core';
import { describe, expect, it } from 'vitest';
import { makeOptionsSchema, type MakeOptions } from './options.js';
import { make } from './plugin.js';

/** Options a JSON config could hold, past the type checker. */
const untyped = (options: Record<string, unknown>): MakeOptions => options;

describe('make options', () => {
  it('rejects an unknown option, naming the plugin and the option and listing the known ones', () => {
    expect(() => make(untyped({ verbose: true }))).toThrow(
      expect.objectContaining({
        code: 'ERR_PLUGIN_OPTIONS',
        exitCode: 2,
        plugin: '@orchestrate/plugin-make',
        keys: ['verbose'],
        message:
          "@orchestrate/plugin-make: unknown option 'verbose' " +
          '(known: command, makefile, targets, variables, jobs, objDir, buildFiles, onBuildFileChange, fullBuild, configure, relocatable)',
      }),
    );
  });

  it('suggests the known option a misspelt one is closest to', () => {
    expect(() => make(untyped({ target: ['all'] }))).toThrow("unknown option 'target', did you mean 'targets'?");
    expect(() => make(untyped({ obj_dir: 'build' }))).toThrow("unknown option 'obj_dir', did you mean 'objDir'?");
  });

  it('rejects a value of the wrong type, saying what the option expects and quoting the value', () => {
    expect(() => make(untyped({ jobs: '4' }))).toThrow(`@orchestrate/plugin-make: option 'jobs' expects a positive whole number, got "4"`);
    expect(() => make(untyped({ jobs: 0 }))).toThrow("option 'jobs' expects a positive whole number, got 0");
    expect(() => make(untyped({ variables: { DEBUG: 1 } }))).toThrow(
      `option 'variables.DEBUG' expects a string (quote numbers: "1"), got 1`,
    );
    expect(() => make(untyped({ onBuildFileChange: 'never' }))).toThrow(
      `option 'onBuildFileChange' expects one of "full", "incremental", got "never"`,
    );
  });

  it('accepts every valid option, and no options', () => {
    const options: MakeOptions = {
      command: 'gmake',
      makefile: 'GNUmakefile',
      targets: ['all'],
      variables: { CC: 'cc' },
      jobs: 2,
      objDir: 'build',
      buildFiles: ['**/*.mk'],
      onBuildFileChange: 'incremental',
      fullBuild: 'plain',
      configure: ['--disable-shared'],
    };
    expect(make(options).name).toBe('make');
    expect(make().name).toBe('make');
  });

  it('has a schema that converts to JSON Schema, unknown keys refused', () => {
    const schema = z.toJSONSchema(makeOptionsSchema);
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, properties: { jobs: { type: 'integer' } } });
  });
});
