#!/usr/bin/env node
import { ExitCode } from '../errors.js';
import { preloadProcessRunner } from '../process.js';
import { runCli } from './main.js';

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
