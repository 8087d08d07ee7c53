import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cargoConfigFiles, configEnablesChecksums, detectFreshness, prefixedEnv } from './fingerprint.js';

describe('cargo fingerprint entries', () => {
  it('records configuration variables by prefix, without the location ones', () => {
    const env = {
      CARGO_BUILD_JOBS: '4',
      CARGO_BUILD_TARGET_DIR: '/x',
      CARGO_TARGET_DIR: '/y',
      CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER: 'cc',
    };
    expect(prefixedEnv(env, 'CARGO_BUILD_')).toBe('CARGO_BUILD_JOBS=4');
    expect(prefixedEnv(env, 'CARGO_TARGET_')).toBe('CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=cc');
  });

  it('lists config files from the workspace up, then the cargo home', () => {
    expect(cargoConfigFiles('/a/b', '/h')).toEqual([
      '/a/b/.cargo/config.toml',
      '/a/b/.cargo/config',
      '/a/.cargo/config.toml',
      '/a/.cargo/config',
      '/.cargo/config.toml',
      '/.cargo/config',
      '/h/config.toml',
      '/h/config',
    ]);
  });

  it('detects checksum freshness in config text, the environment and the arguments', async () => {
    expect(configEnablesChecksums('[unstable]\nchecksum-freshness = true\n')).toBe(true);
    expect(configEnablesChecksums('[build]\nfingerprint = "content"\n')).toBe(true);
    expect(configEnablesChecksums('[build]\njobs = 2\n')).toBe(false);
    expect(await detectFreshness([], {}, [])).toEqual({ mode: 'mtime' });
    expect(await detectFreshness(['-Zchecksum-freshness'], {}, [])).toMatchObject({ mode: 'checksum' });
    expect(await detectFreshness([], { CARGO_UNSTABLE_CHECKSUM_FRESHNESS: 'true' }, [])).toMatchObject({ mode: 'checksum' });
    const dir = await mkdtemp(join(tmpdir(), 'cargo-fp-'));
    await mkdir(join(dir, '.cargo'));
    await writeFile(join(dir, '.cargo/config.toml'), '[unstable]\nchecksum-freshness = true\n');
    expect(await detectFreshness([], {}, cargoConfigFiles(dir, join(dir, 'home')))).toEqual({
      mode: 'checksum',
      source: join(dir, '.cargo/config.toml'),
    });
  });
});
