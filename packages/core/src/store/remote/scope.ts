/**
 * Trust scopes. Every checkpoint on a remote records the scope that wrote it:
 * a branch (`main`) for builds of a push, `pr-<n>` for a pull or merge
 * request. A build reads its own scope and the trusted ones (by default the
 * default branch) and writes only its own, so a pull request's checkpoint is
 * never restored by a build of the default branch.
 */

/** Where a scope came from, for messages. */
export interface ResolvedScope {
  readonly scope: string;
  readonly source: string;
}

/** A scope is a short printable name: letters, digits, `._/-`, 1 to 128 characters. */
const SCOPE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

/** True for a scope name orchestrate accepts. */
export function isValidScope(scope: string): boolean {
  return SCOPE.test(scope) && !scope.split('/').some((part) => part === '' || part === '.' || part === '..');
}

/** The default branch when no CI says otherwise. */
export const DEFAULT_BRANCH = 'main';

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** `refs/heads/feature/x` → `feature/x`; other refs (tags) give undefined. */
function branchOfRef(ref: string | undefined): string | undefined {
  const value = nonEmpty(ref);
  return value?.startsWith('refs/heads/') ? value.slice('refs/heads/'.length) : undefined;
}

/**
 * The scope of this build: `explicit` (`--scope`, the config) when given,
 * else derived from the CI's variables, else undefined (a local build, which
 * has no scope to write and reads the trusted scopes only).
 *
 * - GitHub Actions: `pull_request`/`pull_request_target` events give
 *   `pr-<n>` (the number from `GITHUB_REF` `refs/pull/<n>/merge`); a push
 *   gives the branch (`GITHUB_REF_NAME`, or `GITHUB_REF`'s branch).
 * - GitLab CI: a merge request pipeline gives `pr-<CI_MERGE_REQUEST_IID>`;
 *   a branch pipeline gives `CI_COMMIT_BRANCH`.
 *
 * Throws on a scope that is not a valid name (see {@link isValidScope}).
 */
export function resolveScope(env: Readonly<Record<string, string | undefined>>, explicit?: string): ResolvedScope | undefined {
  const check = (scope: string, source: string): ResolvedScope => {
    if (!isValidScope(scope))
      throw new Error(`invalid scope '${scope}' (from ${source}): expected letters, digits, '.', '_', '-', '/' (at most 128)`);
    return { scope, source };
  };
  if (explicit !== undefined) return check(explicit, '--scope');
  if (env['GITHUB_ACTIONS'] === 'true') {
    const event = env['GITHUB_EVENT_NAME'] ?? '';
    if (event === 'pull_request' || event === 'pull_request_target') {
      const number = /^refs\/pull\/(\d+)\//.exec(env['GITHUB_REF'] ?? '')?.[1];
      if (number !== undefined) return check(`pr-${number}`, 'GITHUB_REF');
      // Without the number, the head branch still keeps it apart from the base branch.
      const head = nonEmpty(env['GITHUB_HEAD_REF']);
      if (head !== undefined) return check(`pr-${head}`, 'GITHUB_HEAD_REF');
    }
    const branch = branchOfRef(env['GITHUB_REF']) ?? (env['GITHUB_REF_TYPE'] === 'branch' ? nonEmpty(env['GITHUB_REF_NAME']) : undefined);
    if (branch !== undefined) return check(branch, 'GITHUB_REF');
    return undefined;
  }
  if (env['GITLAB_CI'] === 'true') {
    const mr = nonEmpty(env['CI_MERGE_REQUEST_IID']);
    if (mr !== undefined) return check(`pr-${mr}`, 'CI_MERGE_REQUEST_IID');
    const branch = nonEmpty(env['CI_COMMIT_BRANCH']);
    if (branch !== undefined) return check(branch, 'CI_COMMIT_BRANCH');
    return undefined;
  }
  return undefined;
}

/**
 * The scopes a build trusts besides its own: the config's `trustedScopes`
 * when given, else the default branch (`CI_DEFAULT_BRANCH` on GitLab,
 * `ORCHESTRATE_DEFAULT_BRANCH` anywhere, else `main`). GitHub does not expose
 * the default branch in a variable: set it in the config when it is not `main`.
 */
export function trustedScopes(env: Readonly<Record<string, string | undefined>>, configured?: readonly string[]): string[] {
  const scopes = configured ?? [nonEmpty(env['ORCHESTRATE_DEFAULT_BRANCH']) ?? nonEmpty(env['CI_DEFAULT_BRANCH']) ?? DEFAULT_BRANCH];
  for (const scope of scopes) if (!isValidScope(scope)) throw new Error(`invalid trusted scope '${scope}'`);
  return [...new Set(scopes)];
}

/** The scopes a build reads, its own first: its own and the trusted ones. */
export function readableScopes(own: string | undefined, trusted: readonly string[]): string[] {
  return [...new Set([...(own === undefined ? [] : [own]), ...trusted])];
}
