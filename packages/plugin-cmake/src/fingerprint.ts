/**
 * The CMake plugin's fingerprint: what CMake and the build tool decide with
 * but never re-check in a configured tree (their versions, the generator, the
 * cache arguments, the toolchain file, the environment CMake reads, and the
 * compilers it will detect).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { toolIdentity, type BuildContext, type Fingerprint } from '@orchestrate/core';
import { FINGERPRINT_ENV, UNFINGERPRINTED_CMAKE_ENV, type CMakeOptions } from './options.js';

/** The value of `-D<name>=…` / `-D<name>:TYPE=…` in `args`, the last one winning. */
export function tryCacheArg(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    let arg = args[i] ?? '';
    if (arg === '-D' && i + 1 < args.length) arg = `-D${args[++i] ?? ''}`;
    const match = /^-D([^:=]+)(?::[^=]*)?=(.*)$/s.exec(arg);
    if (match?.[1] === name) value = match[2];
  }
  return value;
}

/** The toolchain file the configure step would use: `--toolchain`, `-DCMAKE_TOOLCHAIN_FILE` or the environment. */
export function tryToolchainFile(args: readonly string[], env: BuildContext['env']): string | undefined {
  let file = tryCacheArg(args, 'CMAKE_TOOLCHAIN_FILE');
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--toolchain' && i + 1 < args.length) file = args[i + 1];
    else if (arg.startsWith('--toolchain=')) file = arg.slice('--toolchain='.length);
  }
  return file ?? (env['CMAKE_TOOLCHAIN_FILE'] || undefined);
}

async function contentDigest(path: string): Promise<string> {
  try {
    return `${path} | sha256:${createHash('sha256')
      .update(await readFile(path))
      .digest('hex')
      .slice(0, 16)}`;
  } catch {
    return `missing: ${path}`;
  }
}

/** The compiler CMake will pick for a language before it configures: a cache argument, the environment, else the default name on PATH. */
function predictedCompiler(args: readonly string[], env: BuildContext['env'], lang: 'C' | 'CXX'): string {
  const fromArgs = tryCacheArg(args, `CMAKE_${lang}_COMPILER`);
  const fromEnv = env[lang === 'C' ? 'CC' : 'CXX'];
  const command = fromArgs ?? (fromEnv || (lang === 'C' ? 'cc' : 'c++'));
  // CC may carry arguments ("ccache gcc"); CMake takes the first word as the compiler.
  return command.trim().split(/\s+/)[0] ?? command;
}

/** Adds the CMake plugin's entries to `fingerprint`. */
export async function cmakeFingerprint(fingerprint: Fingerprint, ctx: BuildContext, options: CMakeOptions): Promise<Fingerprint> {
  const generator = options.generator ?? 'Ninja';
  const args = options.cacheArgs ?? [];
  const out: Fingerprint = { ...fingerprint };
  out['cmake.program'] = await toolIdentity(options.cmake ?? 'cmake', ['--version']);
  const makeProgram = tryCacheArg(args, 'CMAKE_MAKE_PROGRAM') ?? (generator === 'Ninja' ? 'ninja' : 'make');
  out['cmake.buildTool'] = await toolIdentity(makeProgram, ['--version']);
  out['cmake.generator'] = generator;
  out['cmake.buildType'] = options.buildType ?? '';
  out['cmake.cacheArgs'] = JSON.stringify(args);
  // The option, not the flags it gives: those name this tree's directories, by design.
  out['cmake.relocatable'] = String(options.relocatable === true);
  out['cmake.targets'] = JSON.stringify(options.targets ?? []);
  const toolchain = tryToolchainFile(args, ctx.env);
  out['cmake.toolchainFile'] =
    toolchain === undefined ? '' : await contentDigest(isAbsolute(toolchain) ? toolchain : resolve(ctx.sourceDir, toolchain));
  for (const lang of ['C', 'CXX'] as const) {
    out[`toolchain.${lang.toLowerCase()}`] = await toolIdentity(predictedCompiler(args, ctx.env, lang), ['--version']);
  }
  for (const name of FINGERPRINT_ENV) out[`env.${name}`] = ctx.env[name] ?? '';
  const cmakeEnv = Object.keys(ctx.env)
    .filter((name) => name.startsWith('CMAKE_') && !UNFINGERPRINTED_CMAKE_ENV.has(name))
    .sort()
    .map((name) => [name, ctx.env[name] ?? '']);
  out['env.CMAKE_*'] = JSON.stringify(cmakeEnv);
  return out;
}
