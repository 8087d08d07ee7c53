import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fingerprintHexToDecimal,
  linkFingerprintUnits,
  listFingerprintUnits,
  listProfileDirs,
  tryParseFingerprintJson,
  tryParseUnitDirName,
  tryParseUnitName,
} from './fingerprint-files.js';

describe('tryParseUnitName', () => {
  it.each([
    ['lib-hello_core', 'build', 'lib', 'hello_core', 'lib'],
    ['bin-hello', 'build', 'bin', 'hello', 'bin'],
    ['test-lib-hello_cli', 'test', 'lib', 'hello_cli', 'test'],
    ['test-integration-test-cli', 'test', 'integration-test', 'cli', 'test'],
    ['build-script-build-script-build', 'build', 'build-script', 'build-script-build', 'build-script'],
    ['run-build-script-build-script-build', 'run', 'build-script', 'build-script-build', 'run-build-script'],
    ['doc-lib-hello_leaf', 'doc', 'lib', 'hello_leaf', 'doc'],
    ['example-demo', 'build', 'example', 'demo', 'example'],
  ])('decodes %s', (name, mode, targetKind, targetName, kind) => {
    expect(tryParseUnitName(name)).toEqual({ mode, targetKind, targetName, kind });
  });

  it('rejects other files', () => {
    expect(tryParseUnitName('invoked.timestamp')).toBeUndefined();
    expect(tryParseUnitName('lib-')).toBeUndefined();
  });
});

describe('tryParseUnitDirName', () => {
  it('splits package names with dashes from the hash', () => {
    expect(tryParseUnitDirName('hello-gen-163319368d39ed47')).toEqual({ packageName: 'hello-gen', metadataHash: '163319368d39ed47' });
    expect(tryParseUnitDirName('hello-gen')).toBeUndefined();
  });
});

describe('fingerprint hashes', () => {
  it('reads hash files as little-endian u64', () => {
    expect(fingerprintHexToDecimal('8b4a2345474e2905')).toBe('371914512244361867');
  });

  it('keeps u64 values in the json exact', () => {
    const json = tryParseFingerprintJson(
      '{"rustc":7458672600737419911,"features":"[\\"default\\"]","declared_features":"[\\"default\\", \\"shout\\"]","target":12727801277074160407,"profile":8731458305071235362,"path":2809064891368224403,"deps":[[6119909702387881337,"hello_core",false,371914512244361867]],"local":[{"CheckDepInfo":{"dep_info":"debug/.fingerprint/hello-cli-f13c5aba5f67d501/dep-lib-hello_cli","checksum":false}}],"rustflags":[],"config":8247474407144887393,"compile_kind":0}',
    );
    expect(json?.rustc).toBe('7458672600737419911');
    expect(json?.target).toBe('12727801277074160407');
    expect(json?.features).toBe('["default"]');
    expect(json?.deps).toEqual([
      { pkgIdHash: '6119909702387881337', name: 'hello_core', public: false, fingerprint: '371914512244361867' },
    ]);
    expect(json?.compileKind).toBe('0');
  });
});

describe('listFingerprintUnits', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fp-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lists units with their files and links them by hash', async () => {
    const core = path.join(dir, 'debug/.fingerprint/hello-core-2f1e16dd9bd35a07');
    const cli = path.join(dir, 'debug/.fingerprint/hello-cli-f13c5aba5f67d501');
    await fs.mkdir(core, { recursive: true });
    await fs.mkdir(cli, { recursive: true });
    await fs.writeFile(path.join(core, 'lib-hello_core'), '8b4a2345474e2905');
    await fs.writeFile(path.join(core, 'lib-hello_core.json'), '{"rustc":1,"deps":[],"local":[]}');
    await fs.writeFile(path.join(core, 'dep-lib-hello_core'), '');
    await fs.writeFile(path.join(core, 'invoked.timestamp'), '');
    await fs.writeFile(path.join(cli, 'lib-hello_cli'), '0000000000000001');
    await fs.writeFile(path.join(cli, 'lib-hello_cli.json'), '{"rustc":1,"deps":[[1,"hello_core",false,371914512244361867]],"local":[]}');
    expect(await listProfileDirs(dir)).toEqual([path.join(dir, 'debug')]);
    const units = await listFingerprintUnits(path.join(dir, 'debug'));
    expect(units.map((u) => [u.packageName, u.kind, u.targetName, u.hashDecimal, u.depInfoFile !== undefined])).toEqual([
      ['hello-cli', 'lib', 'hello_cli', '72057594037927936', false],
      ['hello-core', 'lib', 'hello_core', '371914512244361867', true],
    ]);
    const graph = linkFingerprintUnits(units);
    expect(graph.get(units[0]!)?.map((u) => u.packageName)).toEqual(['hello-core']);
  });

  it('returns nothing for a profile dir without fingerprints', async () => {
    expect(await listFingerprintUnits(path.join(dir, 'nope'))).toEqual([]);
  });
});
