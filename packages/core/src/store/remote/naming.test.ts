import { expect, test } from 'vitest';
import { actionCacheKey, checkpointTag, parseCheckpointTag, TAG, tagPrefix } from './naming.js';

const id = 'e'.repeat(64);

test('tags are valid distribution tags whatever the project and scope, and parse back', () => {
  const prefix = tagPrefix('git@evil:x/../../$(rm -rf)', { 'toolchain.cc': 'gcc\n; drop' }, 'feature/ÜBER-long-branch-name-with/slashes');
  const tag = checkpointTag(prefix, '2025-01-02T03:04:05.678Z', id);
  expect(tag).toMatch(TAG);
  expect(tag.length).toBeLessThanOrEqual(128);
  expect(parseCheckpointTag(tag, prefix)).toEqual({ createdAt: '2025-01-02T03:04:05.678Z', id });
});

test('the scope, the project and the fingerprint each change the prefix and the action-cache key', () => {
  const base = tagPrefix('p', { a: '1' }, 'main');
  expect(tagPrefix('p', { a: '1' }, 'pr-1')).not.toBe(base);
  expect(tagPrefix('q', { a: '1' }, 'main')).not.toBe(base);
  expect(tagPrefix('p', { a: '2' }, 'main')).not.toBe(base);
  expect(tagPrefix('p', { a: '1' }, 'main')).toBe(base);
  expect(actionCacheKey('p', { a: '1' }, 'main')).toMatch(/^[0-9a-f]{64}$/);
  expect(actionCacheKey('p', { a: '1' }, 'main')).not.toBe(actionCacheKey('p', { a: '1' }, 'pr-1'));
});

test('a tag of another prefix, or with trailing junk, is not a checkpoint', () => {
  const prefix = tagPrefix('p', {}, 'main');
  expect(parseCheckpointTag(`${tagPrefix('p', {}, 'pr-1')}20250102030405678-${id}`, prefix)).toBeUndefined();
  expect(parseCheckpointTag(`${prefix}20250102030405678-${id}x`, prefix)).toBeUndefined();
  expect(parseCheckpointTag('latest', prefix)).toBeUndefined();
});
