/**
 * git's index file read directly (Documentation/gitformat-index.txt), so the
 * source listing of a large work tree needs no `ls-files -s --debug` output to
 * be printed, transferred and parsed again. Versions 2, 3 and 4; anything this
 * reader does not know (a split or sparse index, a required extension, a
 * SHA-256 repository, a damaged file) makes it return `undefined`, and the
 * caller asks git.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

/** One stage-0-or-not entry of the index, with the stat data git recorded for it (as stored: 32-bit). */
export interface GitIndexEntry {
  /** Relative to the work tree's top, `/`-separated. */
  readonly path: string;
  /** git's mode as `ls-files -s` prints it: `100644`, `100755`, `120000`, `160000`. */
  readonly mode: string;
  readonly oid: string;
  /** 0, or 1 to 3 for the sides of a merge conflict. */
  readonly stage: number;
  readonly ctimeSec: number;
  readonly ctimeNsec: number;
  readonly mtimeSec: number;
  readonly mtimeNsec: number;
  readonly ino: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /**
   * git's in-memory flags as `ls-files --debug` prints them: the on-disk
   * flags in the low 16 bits (`0x8000` assume-valid), the extended flags
   * shifted by 16 (`1 << 29` intent-to-add, `1 << 30` skip-worktree).
   */
  readonly flags: number;
}

const SHA1_BYTES = 20;
/** ctime to size: ten 32-bit fields before the object id. */
const STAT_BYTES = 40;
const FLAG_EXTENDED = 0x4000;
const NAME_MASK = 0x0fff;
/** The modes a file, a link or a submodule has; anything else (a sparse directory) is not read here. */
const MODES = new Map([
  [0o100644, '100644'],
  [0o100755, '100755'],
  [0o120000, '120000'],
  [0o160000, '160000'],
]);

/**
 * The entries of an index file, in its order, or `undefined` when the file is
 * not one this reader fully understands (see the module comment): never a
 * partial listing.
 */
export function tryParseGitIndex(data: Buffer): GitIndexEntry[] | undefined {
  if (data.length < 12 + SHA1_BYTES || data.toString('latin1', 0, 4) !== 'DIRC') return undefined;
  const version = data.readUInt32BE(4);
  if (version < 2 || version > 4) return undefined;
  const count = data.readUInt32BE(8);
  const end = data.length - SHA1_BYTES;
  // index.skipHash writes zeros; otherwise the trailing SHA-1 covers everything before it.
  const trailer = data.subarray(end);
  if (trailer.some((byte) => byte !== 0) && !createHash('sha1').update(data.subarray(0, end)).digest().equals(trailer)) return undefined;

  const entries: GitIndexEntry[] = [];
  let at = 12;
  // Version 4 names are prefix-compressed against the previous one.
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    if (at + STAT_BYTES + SHA1_BYTES + 2 > end) return undefined;
    const modeBits = data.readUInt32BE(at + 24);
    const mode = MODES.get(modeBits);
    if (mode === undefined) return undefined;
    const oid = data.toString('hex', at + STAT_BYTES, at + STAT_BYTES + SHA1_BYTES);
    let flags = data.readUInt16BE(at + STAT_BYTES + SHA1_BYTES);
    let nameAt = at + STAT_BYTES + SHA1_BYTES + 2;
    if ((flags & FLAG_EXTENDED) !== 0) {
      if (version < 3 || nameAt + 2 > end) return undefined;
      flags |= data.readUInt16BE(nameAt) << 16;
      nameAt += 2;
    }
    let name: Buffer;
    let next: number;
    if (version === 4) {
      // A varint (git's offset encoding): bytes to drop from the end of the previous name.
      let byte = data[nameAt++] ?? 0;
      let drop = byte & 0x7f;
      while ((byte & 0x80) !== 0) {
        if (nameAt >= end) return undefined;
        byte = data[nameAt++] ?? 0;
        drop = ((drop + 1) << 7) | (byte & 0x7f);
      }
      const nul = data.indexOf(0, nameAt);
      if (nul < 0 || nul >= end || drop > previous.length) return undefined;
      name = Buffer.concat([previous.subarray(0, previous.length - drop), data.subarray(nameAt, nul)]);
      next = nul + 1;
    } else {
      const length = flags & NAME_MASK;
      const nul = length < NAME_MASK ? nameAt + length : data.indexOf(0, nameAt + NAME_MASK);
      if (nul < 0 || nul >= end || data[nul] !== 0) return undefined;
      name = data.subarray(nameAt, nul);
      // Padded with 1 to 8 NULs to a multiple of 8 bytes from the entry's start.
      next = at + ((nul - at + 8) & ~7);
    }
    if (name.length === 0) return undefined;
    entries.push({
      path: name.toString('utf8'),
      mode,
      oid,
      stage: (flags >> 12) & 3,
      ctimeSec: data.readUInt32BE(at),
      ctimeNsec: data.readUInt32BE(at + 4),
      mtimeSec: data.readUInt32BE(at + 8),
      mtimeNsec: data.readUInt32BE(at + 12),
      ino: data.readUInt32BE(at + 20),
      uid: data.readUInt32BE(at + 28),
      gid: data.readUInt32BE(at + 32),
      size: data.readUInt32BE(at + 36),
      flags: flags & ~(NAME_MASK | FLAG_EXTENDED),
    });
    previous = name;
    at = next;
  }
  // Extensions: an optional one (upper-case first letter: TREE, REUC, UNTR, FSMN, EOIE, IEOT) changes
  // nothing listed here; a required one ('link', a split index; 'sdir', a sparse index) is not read.
  while (at < end) {
    if (at + 8 > end) return undefined;
    const first = data[at] ?? 0;
    if (first < 0x41 || first > 0x5a) return undefined;
    at += 8 + data.readUInt32BE(at + 4);
  }
  return at === end ? entries : undefined;
}

/** Variables that move git's repository, work tree or index away from where discovery finds them. */
const GIT_LOCATION_VARIABLES = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY'];

/** Where the index of the work tree holding a directory is, as git's discovery finds it. */
export interface GitIndexLocation {
  /** The work tree's top (real path). */
  readonly top: string;
  /** The directory relative to {@link top}, `/`-separated; `''` at the top. */
  readonly prefix: string;
  readonly indexFile: string;
}

/**
 * The index of the work tree `dir` is in, found as git finds it (the nearest
 * `.git` directory or `gitdir:` file above the directory's real path), or
 * `undefined` where git could find another (the variables above, a
 * `core.worktree` or `core.bare` setting, a SHA-256 repository, a `.git` that
 * is not a repository). The caller still runs git in `dir`, which fails where
 * git finds no work tree at all (a ceiling, an unsafe owner).
 */
export function tryLocateGitIndex(dir: string, env: NodeJS.ProcessEnv = process.env): GitIndexLocation | undefined {
  if (GIT_LOCATION_VARIABLES.some((name) => env[name] !== undefined)) return undefined;
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return undefined;
  }
  for (let top = real; ; top = dirname(top)) {
    const dotGit = join(top, '.git');
    const info = statSync(dotGit, { throwIfNoEntry: false });
    if (info) {
      let gitDir = dotGit;
      if (info.isFile()) {
        const match = /^gitdir: (.+?)\r?\n?$/.exec(readFileSync(dotGit, 'utf8'));
        if (!match?.[1]) return undefined;
        gitDir = isAbsolute(match[1]) ? match[1] : join(top, match[1]);
      }
      if (!existsSync(join(gitDir, 'HEAD'))) return undefined;
      const commonFile = join(gitDir, 'commondir');
      const common = existsSync(commonFile) ? join(gitDir, readFileSync(commonFile, 'utf8').trim()) : gitDir;
      const configs = [join(common, 'config'), join(gitDir, 'config.worktree')];
      for (const file of configs) {
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
        if (/^\s*(worktree|bare\s*=\s*true|objectformat)\b/im.test(text)) return undefined;
      }
      const prefix = relative(top, real).split(sep).join('/');
      return { top, prefix, indexFile: join(gitDir, 'index') };
    }
    if (dirname(top) === top) return undefined;
  }
}
