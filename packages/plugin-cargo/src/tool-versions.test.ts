import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { toolVersions, toolVersionsKey, type ToolVersionsOptions } from './tool-versions.js';

// Real binaries standing in for cargo and rustc: `echo -V` prints `-V`, which is enough to see the answer.
let root: string;
let options: ToolVersionsOptions;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cargo-tools-'));
  const bin = join(root, 'bin');
  await mkdir(bin, { recursive: true });
  await copyFile('/bin/echo', join(bin, 'cargo'));
  await copyFile('/bin/echo', join(bin, 'rustc'));
  await mkdir(join(root, 'rustup/toolchains/stable-x/bin'), { recursive: true });
  await copyFile('/bin/echo', join(root, 'rustup/toolchains/stable-x/bin/rustc'));
  await writeFile(join(root, 'rustup/settings.toml'), 'version = "12"\ndefault_toolchain = "stable-x"\n\n[overrides]\n');
  await mkdir(join(root, 'work/app'), { recursive: true });
  options = {
    cwd: join(root, 'work/app'),
    env: { PATH: bin, RUSTUP_HOME: join(root, 'rustup'), HOME: root },
    cargo: 'cargo',
    rustc: 'rustc',
    cacheDir: join(root, 'cache'),
  };
});

describe('toolVersions', () => {
  it('runs the tools once and answers from the kept result afterwards', async () => {
    expect(await toolVersions(options)).toEqual({ cargo: '-V', rustc: '-vV', cached: false });
    expect(await toolVersions(options)).toEqual({ cargo: '-V', rustc: '-vV', cached: true });
  });

  it('finds the kept answer from a checkout at another path', async () => {
    await toolVersions(options);
    await mkdir(join(root, 'elsewhere/app'), { recursive: true });
    expect(await toolVersions({ ...options, cwd: join(root, 'elsewhere/app') })).toMatchObject({ cached: true });
  });

  it('keeps nothing for a tool that is a script or missing', async () => {
    const script = join(root, 'bin/rustc');
    await rm(script);
    await writeFile(script, '#!/bin/sh\necho 1.0\n');
    await chmod(script, 0o755);
    expect(await toolVersionsKey(options)).toBeUndefined();
    expect(await toolVersionsKey({ ...options, cargo: 'no-such-cargo' })).toBeUndefined();
  });
});

describe('toolVersionsKey', () => {
  it('changes with anything rustup picks the toolchain from, or an upgraded binary', async () => {
    const base = await toolVersionsKey(options);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await toolVersionsKey(options)).toBe(base);
    expect(await toolVersionsKey({ ...options, env: { ...options.env, RUSTUP_TOOLCHAIN: 'nightly' } })).not.toBe(base);

    await writeFile(join(root, 'work/rust-toolchain.toml'), '[toolchain]\nchannel = "nightly"\n');
    const withFile = await toolVersionsKey(options);
    expect(withFile).not.toBe(base);
    await rm(join(root, 'work/rust-toolchain.toml'));

    await writeFile(join(root, 'rustup/settings.toml'), 'version = "12"\ndefault_toolchain = "nightly-x"\n\n[overrides]\n');
    const otherDefault = await toolVersionsKey(options);
    expect(otherDefault).not.toBe(base);

    // `rustup update` replaces the toolchain's binaries.
    await rm(join(root, 'rustup/toolchains/stable-x/bin/rustc'));
    await copyFile('/bin/echo', join(root, 'rustup/toolchains/stable-x/bin/rustc'));
    expect(await toolVersionsKey(options)).not.toBe(otherDefault);

    const before = await toolVersionsKey(options);
    await rm(join(root, 'bin/cargo'));
    await copyFile('/bin/echo', join(root, 'bin/cargo'));
    expect(await toolVersionsKey(options)).not.toBe(before);
  });

  it('keeps nothing with directory overrides or a toolchain named by path', async () => {
    await writeFile(join(root, 'rustup/settings.toml'), 'version = "12"\n\n[overrides]\n"/work/app" = "nightly-x"\n');
    expect(await toolVersionsKey(options)).toBeUndefined();
    await writeFile(join(root, 'rustup/settings.toml'), 'version = "12"\n\n[overrides]\n');
    await writeFile(join(root, 'work/app/rust-toolchain.toml'), '[toolchain]\npath = "/opt/rust"\n');
    expect(await toolVersionsKey(options)).toBeUndefined();
  });
});
