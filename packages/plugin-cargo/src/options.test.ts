import { describe, expect, it } from 'vitest';
import { z } from '@orchestrate/core';
import { buildArgs, cargoOptionsSchema, profileDirName, profileDirs, resolveCargoOptions, type CargoOptions } from './options.js';
import { cargo } from './plugin.js';

describe('cargo options', () => {
  it('builds the whole workspace in the dev profile by default', () => {
    expect(buildArgs(resolveCargoOptions())).toEqual(['build', '-v', '--workspace']);
  });

  it('passes profile, packages, features, target and offline through', () => {
    const options = resolveCargoOptions({
      profile: 'release',
      packages: ['a', 'b'],
      features: ['z', 'a/x'],
      noDefaultFeatures: true,
      target: 'x86_64-unknown-linux-musl',
      offline: true,
      args: ['--locked'],
    });
    expect(buildArgs(options)).toEqual([
      'build',
      '-v',
      '--profile',
      'release',
      '-p',
      'a',
      '-p',
      'b',
      '--no-default-features',
      '--features',
      'a/x,z',
      '--target',
      'x86_64-unknown-linux-musl',
      '--offline',
      '--locked',
    ]);
    expect(profileDirs(options)).toEqual(['release', 'x86_64-unknown-linux-musl/release']);
  });

  it('maps profiles to their directories', () => {
    expect(['dev', 'test', 'release', 'bench', 'ci'].map(profileDirName)).toEqual(['debug', 'debug', 'release', 'release', 'ci']);
    expect(profileDirs({ profile: 'dev', target: 'specs/my-target.json' })).toEqual(['debug', 'my-target/debug']);
  });

  it('rejects values cargo would not take, quoting them', () => {
    expect(() => resolveCargoOptions({ profile: 'a b' })).toThrow(
      expect.objectContaining({
        code: 'ERR_PLUGIN_OPTIONS',
        message: `@orchestrate/plugin-cargo: option 'profile' expects a profile name (letters, digits, '-' and '_'), got "a b"`,
      }),
    );
    expect(() => resolveCargoOptions({ features: ['ok', '--all'] })).toThrow(`option 'features[1]' expects a feature name, got "--all"`);
    expect(() => resolveCargoOptions({ packages: ['-p'] })).toThrow(`option 'packages[0]' expects a package spec, got "-p"`);
    expect(() => resolveCargoOptions({ target: 'x86 64' })).toThrow(`option 'target' expects a target triple or target file, got "x86 64"`);
  });

  it('rejects an unknown option from the factory, suggesting the option a cargo flag stands for, and listing the known ones', () => {
    const options = { release: true } as unknown as CargoOptions;
    expect(() => cargo(options)).toThrow(
      expect.objectContaining({
        code: 'ERR_PLUGIN_OPTIONS',
        plugin: '@orchestrate/plugin-cargo',
        keys: ['release'],
        message:
          `@orchestrate/plugin-cargo: unknown option 'release', did you mean profile: "release"? ` +
          '(known: profile, features, allFeatures, noDefaultFeatures, target, workspace, packages, offline, incremental, relocatable, cargo, args)',
      }),
    );
  });

  it('suggests the known option a misspelt one is closest to', () => {
    expect(() => cargo({ no_default_features: true } as unknown as CargoOptions)).toThrow(
      "unknown option 'no_default_features', did you mean 'noDefaultFeatures'?",
    );
    expect(() => cargo({ feature: ['a'] } as unknown as CargoOptions)).toThrow("unknown option 'feature', did you mean 'features'?");
  });

  it('rejects a value of the wrong type, naming the option and quoting the value', () => {
    expect(() => cargo({ features: 'a,b' } as unknown as CargoOptions)).toThrow(
      `@orchestrate/plugin-cargo: option 'features' expects an array, got "a,b"`,
    );
    expect(() => cargo({ offline: 'yes' } as unknown as CargoOptions)).toThrow(`option 'offline' expects true or false, got "yes"`);
  });

  it('accepts every valid option, readonly lists included', () => {
    const options = {
      profile: 'ci',
      features: ['a', 'dep/b'],
      allFeatures: false,
      noDefaultFeatures: true,
      target: 'specs/my-target.json',
      workspace: false,
      packages: ['app'],
      offline: true,
      incremental: false,
      cargo: '/opt/cargo/bin/cargo',
      args: ['--locked'],
    } as const satisfies CargoOptions;
    expect(cargo(options).name).toBe('cargo');
    expect(resolveCargoOptions(options)).toMatchObject({ profile: 'ci', packages: ['app'], workspace: false, incremental: false });
  });

  it('has a schema that converts to JSON Schema, unknown keys refused', () => {
    const schema = z.toJSONSchema(cargoOptionsSchema);
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(Object.keys(schema.properties ?? {})).toContain('profile');
  });
});
