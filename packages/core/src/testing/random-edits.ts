/**
 * Seeded random edits of a project tree for differential tests: build the
 * edited tree from a checkpoint and from clean, and compare.
 */
import { chmod, lstat, readFile, readlink, rename, rm, symlink, unlink, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimes } from '../checkpoint/times.js';
import type { Rng } from './random.js';

/**
 * What an edit does:
 * - `modify`: changes a number in an editable file (a body, a header, data).
 * - `touch`: gives an editable file a new mtime, its bytes unchanged.
 * - `old-mtime`: changes a number and gives the file an mtime in 2000.
 * - `add`, `delete`, `rename`: a source file alone (build files that glob).
 * - `build-file`: adds or removes a source together with the line of a build
 *   file (or module declaration) that lists it ({@link RandomEditOptions.buildFile}).
 * - `generated-input`: changes a number in a file a build rule or build
 *   script reads to generate code.
 * - `chmod`: flips a file's executable bits.
 * - `symlink`: points a link at another target, or replaces a regular file by
 *   a link.
 * - `reset-mtimes`: gives every source the same mtime in 2000.
 * - `move`: the tree moves to a new directory at another path, as a fresh
 *   copy (new mtimes, no build state); later edits apply there
 *   ({@link RandomEditOptions.move}).
 */
export type EditKind =
  | 'modify'
  | 'touch'
  | 'add'
  | 'delete'
  | 'rename'
  | 'build-file'
  | 'generated-input'
  | 'chmod'
  | 'symlink'
  | 'old-mtime'
  | 'reset-mtimes'
  | 'move';

export interface EditRecord {
  kind: EditKind;
  path: string;
  detail?: string;
}

export interface RandomEditOptions {
  /** Root of the tree to edit. */
  root: string;
  rng: Rng;
  /** How many edits. */
  count: number;
  /** The kinds to choose from. */
  kinds: readonly EditKind[];
  /** Files whose numbers may be changed (`modify`, `old-mtime`). */
  editable: () => Promise<string[]>;
  /** Writes a new file; returns its path (`add`). */
  add?: (rng: Rng, n: number) => { path: string; content: string };
  /** Files that may be deleted (`delete`). */
  deletable?: () => Promise<string[]>;
  /** Files that may be renamed, and the new name (`rename`). */
  renamable?: () => Promise<string[]>;
  renameTo?: (path: string, n: number) => string;
  /** Files whose executable bit may flip (`chmod`). */
  modeFlippable?: () => Promise<string[]>;
  /** A symbolic link and the targets it may point to (`symlink`). */
  links?: () => Promise<{ link: string; targets: string[] }[]>;
  /** Every file (`reset-mtimes`). */
  all?: () => Promise<string[]>;
  /**
   * Adds or removes a source together with the build-file line that lists it
   * (`build-file`); returns what it did, or `undefined` when it could not.
   */
  buildFile?: (rng: Rng, n: number) => Promise<{ path: string; detail?: string } | undefined>;
  /** Called after a `rename`, to rename the file where a build file names it. */
  renamed?: (from: string, to: string) => Promise<void>;
  /** Files a build rule or build script reads to generate code (`generated-input`). */
  generatedInputs?: () => Promise<string[]>;
  /**
   * Moves the tree to a fresh copy at another path (`move`) and returns the
   * new root; the callbacks above must then list and edit the new root (the
   * differential driver gives callbacks that follow it).
   */
  move?: () => Promise<string>;
}

/** Replaces one decimal number of `text` by another (or appends a comment when there is none). */
export function changeANumber(text: string, rng: Rng, n: number): string {
  const matches = [...text.matchAll(/(?<![A-Za-z_0-9x.])\d+(?![A-Za-z_0-9.x])/g)];
  if (matches.length === 0) return `${text}\n/* edit ${n} */\n`;
  const m = rng.pick(matches);
  const index = m.index ?? 0;
  const old = Number(m[0]);
  const replacement = String(old + 1 + rng.int(9));
  return `${text.slice(0, index)}${replacement}${text.slice(index + m[0].length)}`;
}

const OLD_TIME_NS = 946_684_800_000_000_000n; // 2000-01-01T00:00:00Z

/** A time after the file's current mtime and after now, in ns. */
async function later(path: string): Promise<bigint> {
  const info = await lstat(path, { bigint: true });
  const now = BigInt(Date.now()) * 1_000_000n;
  return (info.mtimeNs > now ? info.mtimeNs : now) + 1_000_000n;
}

/** Applies `count` random edits and returns what was done, to print with a failure. */
export async function applyRandomEdits(options: RandomEditOptions): Promise<EditRecord[]> {
  const { rng } = options;
  let root = options.root;
  const done: EditRecord[] = [];
  for (let n = 0; n < options.count; n++) {
    const kind = rng.pick(options.kinds);
    switch (kind) {
      case 'modify':
      case 'old-mtime': {
        const path = rng.pick(await options.editable());
        const abs = join(root, path);
        await writeFile(abs, changeANumber(await readFile(abs, 'utf8'), rng, n));
        if (kind === 'old-mtime') await setTimes([[abs, OLD_TIME_NS]]);
        done.push({ kind, path });
        break;
      }
      case 'touch': {
        const path = rng.pick(await options.editable());
        const abs = join(root, path);
        await setTimes([[abs, await later(abs)]]);
        done.push({ kind, path });
        break;
      }
      case 'generated-input': {
        const candidates = (await options.generatedInputs?.()) ?? [];
        if (candidates.length === 0) break;
        const path = rng.pick(candidates);
        const abs = join(root, path);
        await writeFile(abs, changeANumber(await readFile(abs, 'utf8'), rng, n));
        done.push({ kind, path });
        break;
      }
      case 'build-file': {
        const edit = await options.buildFile?.(rng, n);
        if (edit) done.push({ kind, ...edit });
        break;
      }
      case 'move': {
        if (!options.move) break;
        root = await options.move();
        done.push({ kind, path: root });
        break;
      }
      case 'add': {
        if (!options.add) break;
        const file = options.add(rng, n);
        await mkdir(dirname(join(root, file.path)), { recursive: true });
        await writeFile(join(root, file.path), file.content);
        done.push({ kind, path: file.path });
        break;
      }
      case 'delete': {
        const candidates = (await options.deletable?.()) ?? [];
        if (candidates.length === 0) break;
        const path = rng.pick(candidates);
        await rm(join(root, path));
        done.push({ kind, path });
        break;
      }
      case 'rename': {
        const candidates = (await options.renamable?.()) ?? [];
        if (candidates.length === 0 || !options.renameTo) break;
        const path = rng.pick(candidates);
        const to = options.renameTo(path, n);
        await rename(join(root, path), join(root, to));
        await options.renamed?.(path, to);
        done.push({ kind, path, detail: to });
        break;
      }
      case 'chmod': {
        const candidates = (await options.modeFlippable?.()) ?? [];
        if (candidates.length === 0) break;
        const path = rng.pick(candidates);
        const info = await lstat(join(root, path));
        const mode = (info.mode & 0o111) !== 0 ? 0o644 : 0o755;
        await chmod(join(root, path), mode);
        done.push({ kind, path, detail: mode.toString(8) });
        break;
      }
      case 'symlink': {
        const links = (await options.links?.()) ?? [];
        if (links.length === 0) break;
        const { link, targets } = rng.pick(links);
        const current = await readlink(join(root, link)).catch(() => undefined);
        const choices = targets.filter((t) => t !== current);
        if (choices.length === 0) break;
        const target = rng.pick(choices);
        await unlink(join(root, link)).catch(() => undefined);
        await symlink(target, join(root, link));
        done.push({ kind, path: link, detail: target });
        break;
      }
      case 'reset-mtimes': {
        const all = (await options.all?.()) ?? [];
        await setTimes(all.map((p) => [join(root, p), OLD_TIME_NS] as const));
        done.push({ kind, path: '*' });
        break;
      }
      default: {
        const unknown: never = kind;
        throw new Error(`unknown edit kind ${JSON.stringify(unknown)}`);
      }
    }
  }
  return done;
}
