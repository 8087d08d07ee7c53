import { describe, expect, it } from 'vitest';
import { encodeDepInfo, type DepInfoEntry } from './dep-info.js';
import { findRebuiltUnits } from './rebuilt-units.js';
import { SOURCE_ROOT_PLACEHOLDER } from './relocation.js';

/** A fake checkpoint: a leaf lib, an app bin depending on it, a registry lib, a build script of the app. */
function checkpoint(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const dep = (...entries: DepInfoEntry[]): Buffer => Buffer.from(encodeDepInfo({ format: 'v1', version: 1, files: entries, env: [] }));
  const json = (...deps: string[]): Buffer =>
    Buffer.from(
      `{"rustc":1,"features":"[]","target":2,"profile":3,"path":4,"deps":[${deps.map((d, i) => `[${i},"d${i}",false,${d}]`).join(',')}],"local":[],"rustflags":[],"config":0,"compile_kind":0}`,
    );
  const unit = (dir: string, name: string, hashHex: string, depInfo: Buffer | undefined, deps: string[]): void => {
    files.set(`debug/.fingerprint/${dir}/${name}`, Buffer.from(hashHex));
    files.set(`debug/.fingerprint/${dir}/${name}.json`, json(...deps));
    if (depInfo) files.set(`debug/.fingerprint/${dir}/dep-${name}`, depInfo);
  };
  // decimal of the little-endian hex: 0100000000000000 → 1, 0200000000000000 → 2, …
  unit(
    'serde-1111111111111111',
    'lib-serde',
    '0100000000000000',
    dep({ type: 'build-root-relative', path: '/registry/serde/src/lib.rs' }),
    [],
  );
  unit('leaf-2222222222222222', 'lib-leaf', '0200000000000000', dep({ type: 'package-root-relative', path: 'src/lib.rs' }), ['1']);
  unit(
    'my-app-3333333333333333',
    'bin-my-app',
    '0300000000000000',
    dep(
      { type: 'package-root-relative', path: 'src/main.rs' },
      { type: 'build-root-relative', path: `${SOURCE_ROOT_PLACEHOLDER}/shared/x.txt` },
    ),
    ['2', '4'],
  );
  unit('my-app-4444444444444444', 'run-build-script-build-script-build', '0400000000000000', undefined, []);
  for (const out of [
    'debug/deps/libserde-1111111111111111.rlib',
    'debug/deps/libleaf-2222222222222222.rlib',
    'debug/deps/libleaf-2222222222222222.rmeta',
    'debug/deps/my_app-3333333333333333',
    'debug/deps/my_app-3333333333333333.d',
    'debug/deps/my_app-9999999999999999',
    'debug/build/my-app-4444444444444444/output',
    'debug/incremental/my_app-abc/s-1/dep-graph.bin',
  ]) {
    files.set(out, Buffer.from('x'));
  }
  return files;
}

const members = new Map([
  ['leaf', 'crates/leaf'],
  ['my-app', '.'],
]);

async function run(changed: string[]) {
  const files = checkpoint();
  return findRebuiltUnits(files.keys(), new Set(changed), members, async (path) => files.get(path));
}

describe('findRebuiltUnits', () => {
  it('leaves out the outputs of a unit whose source changed', async () => {
    const r = await run(['src/main.rs']);
    expect(r.units.map((u) => u.unit)).toEqual(['debug/.fingerprint/my-app-3333333333333333/bin-my-app']);
    expect(r.skip).toEqual(['debug/deps/my_app-3333333333333333', 'debug/deps/my_app-3333333333333333.d']);
  });

  it('follows the dependents of a changed library', async () => {
    const r = await run(['crates/leaf/src/lib.rs']);
    expect(r.units.map((u) => u.unit).sort()).toEqual([
      'debug/.fingerprint/leaf-2222222222222222/lib-leaf',
      'debug/.fingerprint/my-app-3333333333333333/bin-my-app',
    ]);
    expect(r.skip).toEqual([
      'debug/deps/libleaf-2222222222222222.rlib',
      'debug/deps/libleaf-2222222222222222.rmeta',
      'debug/deps/my_app-3333333333333333',
      'debug/deps/my_app-3333333333333333.d',
    ]);
  });

  it('reads absolute entries under the workspace root', async () => {
    const r = await run(['shared/x.txt']);
    expect(r.units.map((u) => u.unit)).toEqual(['debug/.fingerprint/my-app-3333333333333333/bin-my-app']);
  });

  it('leaves everything when no listed source changed', async () => {
    expect(await run([])).toEqual({ units: [], skip: [] });
    expect(await run(['README.md', 'src/lib.rs'])).toEqual({ units: [], skip: [] });
  });

  it('never checks packages outside the workspace', async () => {
    const r = await run(['/registry/serde/src/lib.rs', 'registry/serde/src/lib.rs']);
    expect(r).toEqual({ units: [], skip: [] });
  });
});
