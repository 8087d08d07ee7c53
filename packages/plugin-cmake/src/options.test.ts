import { z } from '@orchestrate/core';
import { describe, expect, it } from 'vitest';
import { cmakeOptionsSchema, prefixMapFlags, withPrefixMaps, type CMakeOptions } from './options.js';
import { cmake } from './plugin.js';

/** Options a JSON config could hold, past the type checker. */
const untyped = (options: Record<string, unknown>): CMakeOptions => options;

describe('cmake options', () => {
  it('rejects an unknown option, naming the plugin and the option and listing the known ones', () => {
    expect(() => cmake(untyped({ preset: 'default' }))).toThrow(
      expect.objectContaining({
        code: 'ERR_PLUGIN_OPTIONS',
        exitCode: 2,
        plugin: '@orchestrate/plugin-cmake',
        keys: ['preset'],
        message:
          "@orchestrate/plugin-cmake: unknown option 'preset' " +
          '(known: generator, buildType, cacheArgs, targets, jobs, buildDir, cmake, allowPathsInBinaries, relocatable)',
      }),
    );
  });

  it('suggests the known option a misspelt one is closest to', () => {
    expect(() => cmake(untyped({ build_type: 'Release' }))).toThrow("unknown option 'build_type', did you mean 'buildType'?");
    expect(() => cmake(untyped({ cachArgs: [] }))).toThrow("unknown option 'cachArgs', did you mean 'cacheArgs'?");
  });

  it('rejects a value of the wrong type, saying what the option expects and quoting the value', () => {
    expect(() => cmake(untyped({ jobs: 1.5 }))).toThrow(
      `@orchestrate/plugin-cmake: option 'jobs' expects a positive whole number, got 1.5`,
    );
    expect(() => cmake(untyped({ generator: 'Ninja Multi-Config' }))).toThrow(
      `option 'generator' expects one of "Ninja", "Unix Makefiles", got "Ninja Multi-Config"`,
    );
    expect(() => cmake(untyped({ cacheArgs: ['-DA=1', 2] }))).toThrow("option 'cacheArgs[1]' expects a string, got 2");
  });

  it('names every option at fault, unknown ones first', () => {
    expect(() => cmake(untyped({ allowPathsInBinaries: 'yes', buildtype: 'Debug' }))).toThrow(
      expect.objectContaining({
        keys: ['buildtype', 'allowPathsInBinaries'],
        message: expect.stringMatching(
          /unknown option 'buildtype', did you mean 'buildType'\? \(known: [^)]*\); option 'allowPathsInBinaries' expects true or false, got "yes"$/,
        ),
      }),
    );
  });

  it('accepts every valid option, and no options', () => {
    const options: CMakeOptions = {
      generator: 'Unix Makefiles',
      buildType: 'Release',
      cacheArgs: ['-DFOO=1'],
      targets: ['app'],
      jobs: 4,
      buildDir: 'out',
      cmake: '/usr/bin/cmake',
      allowPathsInBinaries: true,
    };
    expect(cmake(options).name).toBe('cmake');
    expect(cmake().name).toBe('cmake');
  });

  it('has a schema that converts to JSON Schema, unknown keys refused', () => {
    const schema = z.toJSONSchema(cmakeOptionsSchema);
    expect(schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: { generator: { enum: ['Ninja', 'Unix Makefiles'] } },
    });
  });
});

describe('relocatable', () => {
  it('maps each root to ".", the longest last, after CFLAGS or after the user\'s own -DCMAKE_C_FLAGS', () => {
    const flags = prefixMapFlags('/w/src', '/w/src/build');
    expect(flags).toEqual(['-ffile-prefix-map=/w/src=.', '-ffile-prefix-map=/w/src/build=.']);
    expect(withPrefixMaps(['-DCMAKE_C_FLAGS:STRING=-Wall', '-DX=1'], flags, { CXXFLAGS: '-O1' })).toEqual([
      `-DCMAKE_C_FLAGS:STRING=-Wall ${flags.join(' ')}`,
      '-DX=1',
      `-DCMAKE_CXX_FLAGS=-O1 ${flags.join(' ')}`,
    ]);
  });
});
