import { describe, expect, test } from 'vitest';
import { isValidScope, readableScopes, resolveScope, trustedScopes } from './scope.js';

describe('resolveScope', () => {
  test('--scope wins over the CI', () => {
    expect(resolveScope({ GITHUB_ACTIONS: 'true', GITHUB_REF: 'refs/heads/main' }, 'release-1')).toEqual({
      scope: 'release-1',
      source: '--scope',
    });
  });
  test('a GitHub push builds the branch', () => {
    expect(
      resolveScope({ GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/feature/x', GITHUB_REF_NAME: 'feature/x' })
        ?.scope,
    ).toBe('feature/x');
  });
  test('a GitHub pull request is pr-<n>, never its base branch', () => {
    const env = {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_REF: 'refs/pull/42/merge',
      GITHUB_HEAD_REF: 'main',
      GITHUB_BASE_REF: 'main',
    };
    expect(resolveScope(env)?.scope).toBe('pr-42');
  });
  test('a GitHub tag push has no scope', () => {
    expect(
      resolveScope({
        GITHUB_ACTIONS: 'true',
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/tags/v1',
        GITHUB_REF_NAME: 'v1',
        GITHUB_REF_TYPE: 'tag',
      }),
    ).toBeUndefined();
  });
  test('GitLab: a merge request pipeline is pr-<iid>, a branch pipeline its branch', () => {
    expect(resolveScope({ GITLAB_CI: 'true', CI_MERGE_REQUEST_IID: '7', CI_COMMIT_BRANCH: 'main' })?.scope).toBe('pr-7');
    expect(resolveScope({ GITLAB_CI: 'true', CI_COMMIT_BRANCH: 'develop' })?.scope).toBe('develop');
  });
  test('outside CI there is no scope', () => {
    expect(resolveScope({})).toBeUndefined();
  });
  test('a hostile branch name is refused, not used', () => {
    expect(() => resolveScope({ GITLAB_CI: 'true', CI_COMMIT_BRANCH: 'x/../../y' })).toThrow(/invalid scope/);
    expect(() => resolveScope({}, 'a b')).toThrow(/invalid scope 'a b'/);
    expect(isValidScope('-x')).toBe(false);
  });
});

describe('trustedScopes', () => {
  test('the default branch: main, or the CI default branch, or the config', () => {
    expect(trustedScopes({})).toEqual(['main']);
    expect(trustedScopes({ CI_DEFAULT_BRANCH: 'master' })).toEqual(['master']);
    expect(trustedScopes({ CI_DEFAULT_BRANCH: 'master' }, ['main', 'release'])).toEqual(['main', 'release']);
  });
  test('a build reads its own scope first, then the trusted ones', () => {
    expect(readableScopes('pr-3', ['main'])).toEqual(['pr-3', 'main']);
    expect(readableScopes('main', ['main'])).toEqual(['main']);
    expect(readableScopes(undefined, ['main'])).toEqual(['main']);
  });
});
