/**
 * A build's outputs: what a user ships or runs, which `orchestrate verify`
 * compares byte for byte. Plugins name them through `selectOutputs`; the
 * config's `outputs` globs replace the plugins' choice.
 */
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import picomatch from 'picomatch';
import type { BuildContext } from '../context.js';
import type { OutputSelection } from '../hooks.js';
import { isSafeRelativePath } from '../checkpoint/manifest.js';
import { listFiles } from '../sources/walk.js';

/** Libraries and archives by name: `libx.a`, `libx.so`, `libx.so.1.2`, `libx.dylib`, `x.dll`, `x.lib`. */
const LIBRARY = /\.(a|so|dylib|dll|lib)$|\.so\.[0-9][0-9.]*$/;

/** Magic numbers of executables and shared objects: ELF, Mach-O (both byte orders, 32/64 bit, fat), PE. */
function isBinaryMagic(head: Buffer): boolean {
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return true;
  if (head.length >= 4 && [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(head.readUInt32BE(0))) return true;
  return head.length >= 2 && head[0] === 0x4d && head[1] === 0x5a;
}

/**
 * True for a regular file that is a library or archive by its name, or an
 * executable (an execute bit) whose first bytes are a binary's (ELF, Mach-O,
 * PE): the default outputs of the C and C++ plugins. Scripts a build writes
 * are not taken; name them with the config's `outputs`.
 */
export function isBinaryOutput(absolutePath: string, path: string): boolean {
  const info = lstatSync(absolutePath, { throwIfNoEntry: false });
  if (!info?.isFile()) return false;
  if (LIBRARY.test(path)) return true;
  if ((info.mode & 0o111) === 0) return false;
  const head = Buffer.alloc(4);
  const fd = openSync(absolutePath, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  return isBinaryMagic(head);
}

/** The run's outputs, sorted: the files matching the config's `outputs` globs when given, else the plugins' selection. */
export function resolveOutputs(ctx: BuildContext, selection: OutputSelection): string[] {
  const globs = ctx.config.outputs;
  if (globs !== undefined) {
    const match = picomatch([...globs], { dot: true });
    return listFiles(ctx.buildDir, (path) => path === '.git' || path.endsWith('/.git')).filter((path) => match(path));
  }
  return [...new Set(selection.files)].filter(isSafeRelativePath).sort();
}
