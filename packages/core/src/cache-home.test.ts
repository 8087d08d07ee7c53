import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isNixBuild, tryCacheDir, tryCacheHome } from './cache-home.js';

const roots: string[] = [];
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orchestrate-cache-home-'));
  roots.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of roots.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('tryCacheHome', () => {
  it('is $XDG_CACHE_HOME when it is absolute', () => {
    expect(tryCacheHome({ XDG_CACHE_HOME: '/x/cache', HOME: temp() })).toEqual({ dir: '/x/cache', from: 'XDG_CACHE_HOME' });
  });

  it('ignores a relative $XDG_CACHE_HOME, as the XDG spec says', () => {
    const home = temp();
    expect(tryCacheHome({ XDG_CACHE_HOME: 'cache', HOME: home })).toEqual({ dir: join(home, '.cache'), from: 'HOME' });
  });

  it('is ~/.cache when HOME is a writable directory', () => {
    const home = temp();
    expect(tryCacheHome({ HOME: home })).toEqual({ dir: join(home, '.cache'), from: 'HOME' });
  });

  it("is $TMPDIR when HOME does not exist (Nix's /homeless-shelter), and never names a path below it", () => {
    const tmp = temp();
    const home = join(temp(), 'homeless-shelter');
    expect(tryCacheHome({ HOME: home, TMPDIR: tmp })).toEqual({ dir: tmp, from: 'TMPDIR' });
  });

  it('is $TMPDIR when HOME is unset', () => {
    const tmp = temp();
    expect(tryCacheHome({ TMPDIR: tmp })).toEqual({ dir: tmp, from: 'TMPDIR' });
  });

  it('is $TMPDIR in a Nix build even when HOME is writable', () => {
    const tmp = temp();
    expect(tryCacheHome({ HOME: temp(), TMPDIR: tmp, NIX_BUILD_TOP: tmp })).toEqual({ dir: tmp, from: 'TMPDIR' });
  });

  it('is nowhere without a usable HOME or TMPDIR', () => {
    expect(tryCacheHome({ HOME: '/nonexistent-orchestrate-home' })).toBeUndefined();
    expect(tryCacheHome({ NIX_BUILD_TOP: '/build', HOME: temp() })).toBeUndefined();
    expect(tryCacheDir('v8', {})).toBeUndefined();
  });

  it('skips a HOME whose .cache cannot be written into (here a file, not a directory)', () => {
    const home = temp();
    writeFileSync(join(home, '.cache'), '');
    const tmp = temp();
    expect(tryCacheHome({ HOME: home, TMPDIR: tmp })).toEqual({ dir: tmp, from: 'TMPDIR' });
  });
});

describe('tryCacheDir', () => {
  it('is orchestrate/<name> below the cache home', () => {
    const tmp = temp();
    expect(tryCacheDir('v8', { NIX_BUILD_TOP: tmp, TMPDIR: tmp })).toBe(join(tmp, 'orchestrate', 'v8'));
  });
});

describe('isNixBuild', () => {
  it('is true when NIX_BUILD_TOP is set', () => {
    expect(isNixBuild({ NIX_BUILD_TOP: '/build' })).toBe(true);
    expect(isNixBuild({})).toBe(false);
  });
});
