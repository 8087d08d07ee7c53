import { describe, expect, it } from 'vitest';
import { buildArgs, CargoOptionsError, profileDirName, profileDirs, resolveCargoOptions } from './options.js';

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
      'build', '-v', '--profile', 'release', '-p', 'a', '-p', 'b', '--no-default-features',
      '--features', 'a/x,z', '--target', 'x86_64-unknown-linux-musl', '--offline', '--locked',
    ]);
    expect(profileDirs(options)).toEqual(['release', 'x86_64-unknown-linux-musl/release']);
  });

  it('maps profiles to their directories', () => {
    expect(['dev', 'test', 'release', 'bench', 'ci'].map(profileDirName)).toEqual(['debug', 'debug', 'release', 'release', 'ci']);
    expect(profileDirs({ profile: 'dev', target: 'specs/my-target.json' })).toEqual(['debug', 'my-target/debug']);
  });

  it('rejects values cargo would not take, quoting them', () => {
    expect(() => resolveCargoOptions({ profile: 'a b' })).toThrow(CargoOptionsError);
    expect(() => resolveCargoOptions({ features: ['--all'] })).toThrow(/feature '--all'/);
  });
});
