/**
 * The `orchestrate` process: signal handling around {@link runCli}, and the
 * exit code. Started from the CLI bundle by `startup.ts`.
 */
import { ExitCode } from '../errors.js';
import { preloadProcessRunner } from '../process.js';
import { runCli } from './main.js';

/** Runs the CLI on this process's arguments, with SIGINT/SIGTERM as cancellation; sets `process.exitCode`. */
export async function runCliProcess(): Promise<void> {
  preloadProcessRunner();

  const controller = new AbortController();
  let interrupts = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      interrupts++;
      if (interrupts > 1) process.exit(ExitCode.Interrupted);
      controller.abort();
    });
  }
  const code = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: process.stderr.isTTY === true,
    signal: controller.signal,
  });
  process.exitCode = code;
}
