import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureAndBuild, copyExample, makeTempDir } from '../test/helpers/cmake-project.js';
import { CMakeCacheError, parseCMakeCache, readCMakeCacheInfo, tryGetCMakeCacheValue } from './cmake-cache.js';

describe('parseCMakeCache', () => {
  const text = [
    '# This is the CMakeCache file.',
    '',
    '//Build type',
    '//  second help line',
    'CMAKE_BUILD_TYPE:STRING=Release',
    '"WEIRD:KEY":PATH=/x/y',
    "PADDED:STRING='  spaced  '",
    'TRAILING:STRING=value   ',
    'EMPTY:STRING=',
    'EQ:STRING=a=b:c',
    'CMAKE_BUILD_TYPE:STRING=Debug',
    '',
  ].join('\n');

  it("reads typed entries, quoted keys, help text and CMake's value trimming", () => {
    const cache = parseCMakeCache(text);
    expect(cache.entries.get('"WEIRD:KEY"')).toBeUndefined();
    expect(tryGetCMakeCacheValue(cache, 'WEIRD:KEY')).toBe('/x/y');
    expect(cache.entries.get('WEIRD:KEY')?.type).toBe('PATH');
    expect(tryGetCMakeCacheValue(cache, 'PADDED')).toBe('  spaced  ');
    expect(tryGetCMakeCacheValue(cache, 'TRAILING')).toBe('value');
    expect(tryGetCMakeCacheValue(cache, 'EMPTY')).toBe('');
    expect(tryGetCMakeCacheValue(cache, 'EQ')).toBe('a=b:c');
    expect(tryGetCMakeCacheValue(cache, 'MISSING')).toBeUndefined();
  });

  it('keeps the last of repeated keys, with its own help and line', () => {
    const entry = parseCMakeCache(text).entries.get('CMAKE_BUILD_TYPE');
    expect(entry).toEqual({ key: 'CMAKE_BUILD_TYPE', type: 'STRING', value: 'Debug', help: [], line: 11 });
    const first = parseCMakeCache(text.split('\n').slice(0, 5).join('\n')).entries.get('CMAKE_BUILD_TYPE');
    expect(first?.help).toEqual(['Build type', '  second help line']);
  });

  it('rejects a line CMake could not parse, quoting it', () => {
    expect(() => parseCMakeCache('# ok\nnot an entry\n')).toThrow(/line 2: "not an entry"/);
  });

  it('reports missing required entries by name', () => {
    expect(() => readCMakeCacheInfo(parseCMakeCache(text))).toThrow(CMakeCacheError);
    expect(() => readCMakeCacheInfo(parseCMakeCache(text))).toThrow(/CMAKE_HOME_DIRECTORY/);
  });
});

describe.each(['Ninja', 'Unix Makefiles'] as const)('a CMakeCache.txt written by cmake (%s)', (generator) => {
  let dir: string;
  beforeAll(async () => {
    dir = makeTempDir('cmake-cache');
    copyExample(join(dir, 'src'));
    await configureAndBuild(join(dir, 'src'), join(dir, 'build'), generator, ['-DHELLO_SHOUT=ON']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the source dir, build dir, tools and generator', () => {
    const cache = parseCMakeCache(readFileSync(join(dir, 'build', 'CMakeCache.txt')));
    const info = readCMakeCacheInfo(cache);
    expect(info.homeDirectory).toBe(join(dir, 'src'));
    expect(info.cacheFileDir).toBe(join(dir, 'build'));
    expect(info.generator).toBe(generator);
    expect(info.command).toMatch(/cmake$/);
    expect(info.cxxCompiler).toMatch(/(c\+\+|g\+\+)$/);
    expect(info.cCompiler).toBeUndefined(); // the example enables CXX only
    expect(info.makeProgram).toMatch(generator === 'Ninja' ? /ninja$/ : /make$/);
    expect(info.buildType).toBe('Release');
    expect(info.cmakeVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(tryGetCMakeCacheValue(cache, 'HELLO_SHOUT')).toBe('ON');
  });
});
