/**
 * Relocation of the few absolute paths cargo keeps under its build directory.
 *
 * At capture, the workspace root and the build root are replaced by
 * placeholders in three kinds of files, so the stored blobs are the same
 * wherever the workspace was built; at restore the placeholders become the
 * new roots. The files keep their recorded mtimes (the core replays them
 * after the transform).
 * ```text
 * <profile>/build/<pkg>-<hash>/output        directives; rerun-if-changed and link paths may be absolute
 * <profile>/build/<pkg>-<hash>/root-output   the absolute OUT_DIR, cargo's "from" for its own OUT_DIR rewrite
 * <profile>/.fingerprint/<pkg>-<hash>/dep-*  binary dep-info; files outside the package and build root are absolute
 * ```
 * Rewriting is only right where the path is freshness information. A path a
 * build script hands to the compiler (`rustc-env`, `rustc-cfg`, link args,
 * metadata for dependents) or writes into generated code is baked into
 * restored outputs: those scripts must run again ({@link classifyBuildOutput}).
 *
 * @packageDocumentation
 */
import { ROOT_PLACEHOLDER } from '@orchestrate/core';
import { parseBuildOutput, rewriteRoot, type BuildDirective } from './build-output.js';
import { encodeDepInfo, isAbsoluteDepInfoEntry, parseDepInfo, relocateDepInfo, type DepInfo } from './dep-info.js';

/** Placeholder of the workspace root in stored files: the core's, shared by every plugin. Absolute-looking, so dep-info entries stay "absolute". */
export const SOURCE_ROOT_PLACEHOLDER = ROOT_PLACEHOLDER.source;
/** Placeholder of the build root (cargo's target or build directory) in stored files: the core's. */
export const BUILD_ROOT_PLACEHOLDER = ROOT_PLACEHOLDER.build;

/** The transform names recorded in the manifest for the files that pass through relocation. */
export const TRANSFORM_BUILD_OUTPUT = 'cargo-build-output';
export const TRANSFORM_DEP_INFO = 'cargo-dep-info';

/** The absolute roots of one side of a move; each may have several spellings (as given and real path). */
export interface Roots {
  readonly source: readonly string[];
  readonly build: readonly string[];
}

/** `[spelling, placeholder]` pairs, longest spelling first, so a build root inside the workspace becomes the build placeholder. */
function capturePairs(roots: Roots): [string, string][] {
  const pairs: [string, string][] = [];
  for (const r of new Set(roots.build)) pairs.push([trimSlash(r), BUILD_ROOT_PLACEHOLDER]);
  for (const r of new Set(roots.source)) pairs.push([trimSlash(r), SOURCE_ROOT_PLACEHOLDER]);
  return pairs.filter(([r]) => r !== '' && r !== '/').sort(([a], [b]) => b.length - a.length);
}

function trimSlash(path: string): string {
  return path.replace(/\/+$/, '');
}

/** Replaces the roots by placeholders in a text (build-script `output`, `root-output`). */
export function textToPlaceholders(text: string, roots: Roots): { text: string; count: number } {
  let out = text;
  let count = 0;
  for (const [root, placeholder] of capturePairs(roots)) {
    const r = rewriteRoot(out, root, placeholder);
    out = r.text;
    count += r.count;
  }
  return { text: out, count };
}

/** Replaces the placeholders by the new roots in a text. */
export function textFromPlaceholders(text: string, source: string, build: string): { text: string; count: number } {
  const a = rewriteRoot(text, BUILD_ROOT_PLACEHOLDER, build);
  const b = rewriteRoot(a.text, SOURCE_ROOT_PLACEHOLDER, source);
  return { text: b.text, count: a.count + b.count };
}

/** Replaces the roots by placeholders in a dep-info file's absolute entries. */
export function depInfoToPlaceholders(info: DepInfo, roots: Roots): { info: DepInfo; count: number } {
  let out = info;
  let count = 0;
  for (const [root, placeholder] of capturePairs(roots)) {
    const r = relocateDepInfo(out, root, placeholder);
    out = r.info;
    count += r.rewritten;
  }
  return { info: out, count };
}

/** Replaces the placeholders by the new roots in a dep-info file. */
export function depInfoFromPlaceholders(info: DepInfo, source: string, build: string): { info: DepInfo; count: number } {
  const a = relocateDepInfo(info, BUILD_ROOT_PLACEHOLDER, build);
  const b = relocateDepInfo(a.info, SOURCE_ROOT_PLACEHOLDER, source);
  return { info: b.info, count: a.rewritten + b.rewritten };
}

/** Absolute entries of a dep-info file that lie under neither root (toolchain, registry, other trees). */
export function externalDepInfoPaths(info: DepInfo): string[] {
  return info.files
    .filter(
      (f) =>
        isAbsoluteDepInfoEntry(f) && !f.path.startsWith(`${SOURCE_ROOT_PLACEHOLDER}/`) && !f.path.startsWith(`${BUILD_ROOT_PLACEHOLDER}/`),
    )
    .map((f) => f.path);
}

/** Result of the dep-info transforms: the bytes, and whether they could be read at all. */
export interface DepInfoTransformResult {
  readonly bytes: Buffer;
  /** False for bytes this version cannot decode (another cargo's format); they are passed through unchanged. */
  readonly parsed: boolean;
  readonly count: number;
  readonly external: readonly string[];
}

/** Capture side of {@link TRANSFORM_DEP_INFO}. */
export function captureDepInfo(bytes: Buffer, roots: Roots): DepInfoTransformResult {
  let info: DepInfo;
  try {
    info = parseDepInfo(bytes);
  } catch {
    return { bytes, parsed: false, count: 0, external: [] };
  }
  const r = depInfoToPlaceholders(info, roots);
  return {
    bytes: r.count === 0 ? bytes : Buffer.from(encodeDepInfo(r.info)),
    parsed: true,
    count: r.count,
    external: externalDepInfoPaths(r.info),
  };
}

/** Restore side of {@link TRANSFORM_DEP_INFO}. */
export function restoreDepInfo(bytes: Buffer, source: string, build: string): DepInfoTransformResult {
  let info: DepInfo;
  try {
    info = parseDepInfo(bytes);
  } catch {
    return { bytes, parsed: false, count: 0, external: [] };
  }
  const external = externalDepInfoPaths(info);
  const r = depInfoFromPlaceholders(info, source, build);
  return { bytes: r.count === 0 ? bytes : Buffer.from(encodeDepInfo(r.info)), parsed: true, count: r.count, external };
}

/**
 * Directive keys whose absolute paths are safe to rewrite: freshness
 * information (`rerun-if-changed`), search paths for the linker (the restored
 * objects were linked with the same files) and messages.
 */
export const REWRITABLE_KEYS: ReadonlySet<string> = new Set(['rerun-if-changed', 'rustc-link-search', 'warning', 'error']);

/** What a build script's stored `output` (with placeholders) means after a move. */
export interface BuildOutputClassification {
  /** Directives holding a root whose value reaches compiled code: the script must run again after a move. */
  readonly baked: readonly BuildDirective[];
  /**
   * `rerun-if-changed` paths under a root that cargo does not store relative
   * to the package (outside the package, or under OUT_DIR): cargo stores them
   * absolute in the fingerprint and reruns the script once after a move by itself.
   */
  readonly cargoReruns: readonly string[];
  /** Absolute `rerun-if-changed` paths outside both roots: left alone and reported. */
  readonly external: readonly string[];
  /** Number of placeholders (the roots at capture). */
  readonly rootHits: number;
}

const hasPlaceholder = (value: string): boolean => value.includes(SOURCE_ROOT_PLACEHOLDER) || value.includes(BUILD_ROOT_PLACEHOLDER);

/**
 * Classifies a stored `output` file (see {@link BuildOutputClassification});
 * `packageDir` is the package's directory relative to the workspace root, when
 * known, to tell package-relative watched paths from the others.
 */
export function classifyBuildOutput(text: string, packageDir?: string): BuildOutputClassification {
  const parsed = parseBuildOutput(text);
  const baked: BuildDirective[] = [];
  const cargoReruns: string[] = [];
  const external: string[] = [];
  const packagePrefix = packageDir === undefined ? undefined : `${SOURCE_ROOT_PLACEHOLDER}/${packageDir.replace(/\/+$/, '')}/`;
  let rootHits = 0;
  for (const d of parsed.directives) {
    if (!hasPlaceholder(d.value)) {
      if (d.key === 'rerun-if-changed' && d.value.startsWith('/')) external.push(d.value);
      continue;
    }
    rootHits++;
    if (!REWRITABLE_KEYS.has(d.key)) {
      baked.push(d);
    } else if (d.key === 'rerun-if-changed' && (packagePrefix === undefined || !d.value.startsWith(packagePrefix))) {
      cargoReruns.push(d.value);
    }
  }
  return { baked, cargoReruns, external, rootHits };
}

/** True when `bytes` contain any of `roots` on a path boundary (for generated files under OUT_DIR). */
export function containsRoot(bytes: Buffer, roots: readonly string[]): boolean {
  for (const root of roots) {
    const needle = Buffer.from(trimSlash(root));
    if (needle.length <= 1) continue;
    let i = bytes.indexOf(needle);
    while (i >= 0) {
      const next = bytes[i + needle.length];
      // "/a/b" is not in "/a/bc"
      if (next === undefined || !/[A-Za-z0-9._\-+@~%]/.test(String.fromCharCode(next))) return true;
      i = bytes.indexOf(needle, i + 1);
    }
  }
  return false;
}
