import { describe, expect, it } from 'vitest';
import { trySourceOfObject, tryExclusionReason } from './state.js';

describe('tryExclusionReason', () => {
  it('excludes try_compile scratch, compiler identification and configure logs', () => {
    expect(tryExclusionReason('CMakeFiles/CMakeScratch/TryCompile-x/a.c')).toBeDefined();
    expect(tryExclusionReason('CMakeFiles/3.25.1/CompilerIdCXX/a.out')).toBeDefined();
    expect(tryExclusionReason('CMakeFiles/3.25.1/CMakeDetermineCompilerABI_CXX.bin')).toBeDefined();
    expect(tryExclusionReason('CMakeFiles/CMakeOutput.log')).toBeDefined();
  });

  it('keeps the compiler detection results, logs of ninja and outputs', () => {
    for (const path of ['CMakeFiles/3.25.1/CMakeCXXCompiler.cmake', '.ninja_log', '.ninja_deps', 'CMakeCache.txt', 'libhello.a']) {
      expect(tryExclusionReason(path)).toBeUndefined();
    }
  });
});

describe('trySourceOfObject', () => {
  it('names the source of an object and of its dependency file', () => {
    expect(trySourceOfObject('CMakeFiles/hello.dir/src/name.cpp.o')).toBe('src/name.cpp');
    expect(trySourceOfObject('CMakeFiles/hello.dir/src/name.cpp.o.d')).toBe('src/name.cpp');
    expect(trySourceOfObject('sub/CMakeFiles/t.dir/x.c.o')).toBe('sub/x.c');
  });

  it('ignores other files and sources outside the tree', () => {
    expect(trySourceOfObject('CMakeFiles/hello.dir/flags.make')).toBeUndefined();
    expect(trySourceOfObject('libhello.a')).toBeUndefined();
    expect(trySourceOfObject('CMakeFiles/t.dir/__/other/x.c.o')).toBeUndefined();
  });
});
