import { describe, expect, it } from 'vitest';
import { tryCacheArg, tryToolchainFile } from './fingerprint.js';

describe('tryCacheArg', () => {
  it('reads -DNAME=value, -DNAME:TYPE=value and -D NAME=value, the last one winning', () => {
    expect(tryCacheArg(['-DA=1', '-DB:BOOL=ON', '-D', 'C=x=y', '-DA=2'], 'A')).toBe('2');
    expect(tryCacheArg(['-DB:BOOL=ON'], 'B')).toBe('ON');
    expect(tryCacheArg(['-D', 'C=x=y'], 'C')).toBe('x=y');
    expect(tryCacheArg(['-DAB=1'], 'A')).toBeUndefined();
  });
});

describe('tryToolchainFile', () => {
  it('prefers --toolchain, then -DCMAKE_TOOLCHAIN_FILE, then the environment', () => {
    expect(tryToolchainFile(['-DCMAKE_TOOLCHAIN_FILE=a.cmake', '--toolchain', 'b.cmake'], {})).toBe('b.cmake');
    expect(tryToolchainFile(['-DCMAKE_TOOLCHAIN_FILE=a.cmake'], { CMAKE_TOOLCHAIN_FILE: 'c.cmake' })).toBe('a.cmake');
    expect(tryToolchainFile([], { CMAKE_TOOLCHAIN_FILE: 'c.cmake' })).toBe('c.cmake');
    expect(tryToolchainFile([], {})).toBeUndefined();
  });
});
