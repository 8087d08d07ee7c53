import { describe, expect, it } from 'vitest';
import type { StateRecord } from './manifest.js';
import { tryResolveLinkInPlan } from './restore.js';

describe('tryResolveLinkInPlan', () => {
  const plan = (links: Record<string, string>): Map<string, StateRecord> =>
    new Map(Object.entries(links).map(([path, target]) => [path, { kind: 'link', target, mtimeNs: '1' }]));

  it('resolves a target inside the build directory, the directory itself included', () => {
    expect(tryResolveLinkInPlan('lib/libx.so', plan({ 'lib/libx.so': 'libx.so.1' }))).toBe('lib/libx.so.1');
    expect(tryResolveLinkInPlan('a/up', plan({ 'a/up': '..' }))).toBe('');
    expect(tryResolveLinkInPlan('a/b', plan({ 'a/b': './../c/./d' }))).toBe('c/d');
  });

  it('follows the other links of the plan, as the file system will', () => {
    expect(tryResolveLinkInPlan('x', plan({ x: 'd/y/../escape', 'd/y': '..' }))).toBeUndefined();
    expect(tryResolveLinkInPlan('x', plan({ x: 'd/y/inner', 'd/y': '../e' }))).toBe('e/inner');
  });

  it('refuses absolute, empty, escaping and looping targets', () => {
    expect(tryResolveLinkInPlan('x', plan({ x: '/etc' }))).toBeUndefined();
    expect(tryResolveLinkInPlan('x', plan({ x: '' }))).toBeUndefined();
    expect(tryResolveLinkInPlan('a/x', plan({ 'a/x': '../..' }))).toBeUndefined();
    expect(tryResolveLinkInPlan('x', plan({ x: 'y/z', y: 'x' }))).toBeUndefined();
  });
});
