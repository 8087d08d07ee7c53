import { describe, expect, it } from 'vitest';
import { isConfiguredWith, shellWords } from './configure.js';

describe('shellWords', () => {
  it('splits as sh does: quotes, escapes, empty words', () => {
    expect(shellWords(`'CFLAGS=-O2 -g' CC=gcc "--prefix=/a b" x\\ y '' 'it'\\''s'`)).toEqual([
      'CFLAGS=-O2 -g',
      'CC=gcc',
      '--prefix=/a b',
      'x y',
      '',
      "it's",
    ]);
  });
});

describe('isConfiguredWith', () => {
  it('takes the arguments quoted or not, as autoconf versions print them', () => {
    expect(isConfiguredWith("'--prefix=/usr' 'CFLAGS=-O2'", ['--prefix=/usr', 'CFLAGS=-O2'], {})).toBe(true);
    expect(isConfiguredWith('--prefix=/usr CFLAGS=-O2', ['--prefix=/usr', 'CFLAGS=-O2'], {})).toBe(true);
  });

  it('leaves out a precious variable configure took from the environment, while the environment still has it', () => {
    expect(isConfiguredWith("CFLAGS=-O2 'CC=/opt/cc wrap'", ['CFLAGS=-O2'], { CC: '/opt/cc wrap' })).toBe(true);
    // The environment changed since: configure must run again.
    expect(isConfiguredWith('CFLAGS=-O2 CC=/opt/cc', ['CFLAGS=-O2'], { CC: 'clang' })).toBe(false);
  });

  it('is false for other arguments, fewer, more or in another order', () => {
    expect(isConfiguredWith('CFLAGS=-O1', ['CFLAGS=-O2'], {})).toBe(false);
    expect(isConfiguredWith('', ['CFLAGS=-O2'], {})).toBe(false);
    expect(isConfiguredWith('CFLAGS=-O2 --enable-x', ['CFLAGS=-O2'], {})).toBe(false);
    expect(isConfiguredWith('--enable-x CFLAGS=-O2', ['CFLAGS=-O2', '--enable-x'], {})).toBe(false);
  });
});
