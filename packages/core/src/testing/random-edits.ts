/**
 * Seeded random edits of a project tree for differential tests: build the
 * edited tree from a checkpoint and from clean, and compare.
 */
import { chmod, lstat, readFile, readlink, rename, rm, symlink, unlink, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimes } from '../checkpoint/times.js';
import type { Rng } from './random.js';

export type EditKind = 'modify' | 'add' | 'delete' | 'rename' | 'chmod' | 'symlink' | 'old-mtime' | 'reset-mtimes';

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

/** Applies `count` random edits and returns what was done, to print with a failure. */
export async function applyRandomEdits(options: RandomEditOptions): Promise<EditRecord[]> {
  const { root, rng } = options;
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
    }
  }
  return done;
}
