/**
 * Every edge's output -> the exact string ninja hashes into `.ninja_log`.
 *
 * Ninja hashes `Edge::EvaluateCommand(true)`: the expanded `command`, plus
 * `";rspfile=" + rspfile_content` when the edge has a non-empty
 * `rspfile_content`. No ninja 1.11 tool prints that string:
 *
 * - `ninja -t commands` prints commands only, without outputs or rspfile content;
 * - `ninja -t compdb` prints `EvaluateCommand(false)` and only the first
 *   output, skips edges without inputs, and `-x` splices the rspfile content
 *   into the command with newlines turned into spaces (lossy, and only when
 *   the command contains `@<rspfile>`).
 *
 * So the manifest is evaluated here with a reader that follows ninja's own
 * parser and variable lookup (`ninja-manifest.ts`), and, unless disabled, the
 * result is checked against `ninja -t compdb` and `ninja -t compdb -x` for
 * every edge ninja lists there. Limits: edges without inputs and the full
 * newline structure of rspfile content are not covered by that check (they
 * come from the same evaluator, whose lookup rules the check exercises), and
 * Windows-only behaviour (slash bits, Windows escaping) is not implemented.
 *
 * @packageDocumentation
 */

import { resolve } from 'node:path';
import { runProcess } from '@orchestrate/core';
import { type NinjaEdge, type NinjaManifest, parseNinjaManifest } from './ninja-manifest.js';

/** The string ninja hashes for `edge` (`Edge::EvaluateCommand(true)`). */
export function ninjaHashedCommand(edge: NinjaEdge): string {
  const command = edge.getBinding('command');
  const rspfileContent = edge.getBinding('rspfile_content');
  return rspfileContent === '' ? command : `${command};rspfile=${rspfileContent}`;
}

/**
 * Output -> hashed command for every non-phony edge of a parsed manifest.
 * All outputs of an edge, implicit ones included, map to the same command,
 * as ninja logs each of them.
 */
export function ninjaCommandsFromManifest(manifest: NinjaManifest): Map<string, string> {
  const commands = new Map<string, string>();
  for (const edge of manifest.edges) {
    if (edge.rule === 'phony') continue;
    const command = ninjaHashedCommand(edge);
    for (const output of edge.outputs) commands.set(output, command);
  }
  return commands;
}

/** Options for {@link readNinjaCommands}. */
export interface ReadNinjaCommandsOptions {
  /** The manifest, relative to the build dir. @default 'build.ninja' */
  readonly manifest?: string;
  /** The ninja executable used for the check. @default 'ninja' */
  readonly ninja?: string;
  /** Check the evaluation against `ninja -t compdb` (and `-x`). @default true */
  readonly verify?: boolean;
}

/** Thrown when the evaluated commands disagree with ninja's own. */
export class NinjaCommandsMismatchError extends Error {
  override readonly name = 'NinjaCommandsMismatchError';
  readonly code = 'NINJA_COMMANDS_MISMATCH';
  readonly output: string;
  readonly expected: string;
  readonly actual: string;

  constructor(output: string, expected: string, actual: string, mode: string) {
    super(
      `The command evaluated for ${JSON.stringify(output)} differs from ninja's (${mode}):\n` +
        `  ninja: ${JSON.stringify(expected)}\n  ours:  ${JSON.stringify(actual)}`,
    );
    this.output = output;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Output -> the exact string ninja hashes, for every edge of the build dir's
 * manifest, verified against ninja itself unless `verify` is false.
 *
 * @throws {@link NinjaCommandsMismatchError} when the check fails, and the
 *   manifest parser's errors for a manifest ninja would reject.
 */
export async function readNinjaCommands(buildDir: string, options: ReadNinjaCommandsOptions = {}): Promise<Map<string, string>> {
  const cwd = resolve(buildDir);
  const manifestFile = options.manifest ?? 'build.ninja';
  const manifest = parseNinjaManifest(manifestFile, { cwd });
  if (options.verify ?? true) {
    await verifyNinjaManifest(cwd, manifest, { manifest: manifestFile, ninja: options.ninja ?? 'ninja' });
  }
  return ninjaCommandsFromManifest(manifest);
}

interface CompdbEntry {
  readonly command: string;
  readonly output: string;
}

async function compdb(buildDir: string, ninja: string, manifest: string, expand: boolean): Promise<CompdbEntry[]> {
  const result = await runProcess(ninja, ['-C', buildDir, '-f', manifest, '-t', 'compdb', ...(expand ? ['-x'] : [])], {
    keepFinalNewline: true,
  });
  if (result.failed) {
    throw new Error(`'${result.command}' failed: ${result.error?.message ?? result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(result.stdout) as CompdbEntry[];
}

/** `EvaluateCommandWithRspfile(edge, ECM_EXPAND_RSPFILE)` from ninja 1.11. */
function expandRspfile(edge: NinjaEdge): string {
  const command = edge.getBinding('command');
  const rspfile = edge.getUnescapedBinding('rspfile');
  if (rspfile === '') return command;
  const index = command.indexOf(rspfile);
  if (index <= 0 || command[index - 1] !== '@') return command;
  const content = edge.getBinding('rspfile_content').replaceAll('\n', ' ');
  return command.slice(0, index - 1) + content + command.slice(index + rspfile.length);
}

/**
 * Checks the evaluated manifest against `ninja -t compdb` (the command of
 * each edge with inputs, keyed by its first output) and `ninja -t compdb -x`
 * (the same with `@rspfile` replaced by the rspfile content). Compdb never
 * regenerates the manifest, so this is safe on a restored tree.
 *
 * @throws {@link NinjaCommandsMismatchError} on the first difference.
 */
export async function verifyNinjaManifest(
  buildDir: string,
  manifest: NinjaManifest,
  options: { readonly manifest?: string; readonly ninja?: string } = {},
): Promise<void> {
  const ninja = options.ninja ?? 'ninja';
  const file = options.manifest ?? 'build.ninja';
  const byFirstOutput = new Map<string, NinjaEdge>();
  for (const edge of manifest.edges) {
    const first = edge.outputs[0];
    if (first !== undefined && edge.inputs.length > 0) byFirstOutput.set(first, edge);
  }
  const [normal, expanded] = await Promise.all([compdb(buildDir, ninja, file, false), compdb(buildDir, ninja, file, true)]);
  const check = (entries: CompdbEntry[], mode: string, evaluate: (edge: NinjaEdge) => string): void => {
    if (entries.length !== byFirstOutput.size) {
      throw new NinjaCommandsMismatchError(
        '<all edges>',
        `${entries.length} edges with inputs`,
        `${byFirstOutput.size} edges with inputs`,
        mode,
      );
    }
    for (const entry of entries) {
      const edge = byFirstOutput.get(entry.output);
      const actual = edge ? evaluate(edge) : '<no such edge>';
      if (actual !== entry.command) throw new NinjaCommandsMismatchError(entry.output, entry.command, actual, mode);
    }
  };
  check(normal, 'ninja -t compdb', (edge) => edge.getBinding('command'));
  check(expanded, 'ninja -t compdb -x', expandRspfile);
}
