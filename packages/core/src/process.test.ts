import { describe, expect, it } from 'vitest';
import { runProcess } from './process.js';

// Both ways of running a process (output captured as bytes, or streamed as text) keep one contract.
const modes = [
  ['captured', {}],
  ['streamed', { interleaved: true }],
] as const;

describe.each(modes)('runProcess, %s', (_mode, extra) => {
  it('feeds stdin, captures stdout and stderr without their final newline, and reports a non-zero exit without throwing', async () => {
    const result = await runProcess('sh', ['-c', 'cat; echo oops >&2; exit 3'], { ...extra, input: 'in\n' });
    expect(result).toMatchObject({ exitCode: 3, signal: undefined, stdout: 'in', stderr: 'oops', failed: true, canceled: false });
    expect(result.error).toBeUndefined();
    expect(result.command).toBe('sh -c cat; echo oops >&2; exit 3');
  });

  it('keeps the final newline when asked', async () => {
    expect((await runProcess('printf', ['a\\n'], { ...extra, keepFinalNewline: true })).stdout).toBe('a\n');
  });

  it('says why a missing program did not start, with no exit code', async () => {
    const result = await runProcess('orchestrate-no-such-program', [], extra);
    expect(result).toMatchObject({ exitCode: undefined, failed: true, canceled: false });
    expect(result.error?.message).toContain('ENOENT');
  });

  it('ends the process when the signal aborts, as canceled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await runProcess('sleep', ['30'], { ...extra, signal: controller.signal });
    expect(result).toMatchObject({ exitCode: undefined, signal: 'SIGTERM', failed: true, canceled: true });
  });

  it('ends a process whose output passes maxBuffer, as failed, keeping what it printed up to there', async () => {
    const result = await runProcess('yes', [], { ...extra, maxBuffer: 1000 });
    expect(result).toMatchObject({ failed: true, canceled: false });
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(result.stdout.length).toBeLessThanOrEqual(1000);
  });

  it('runs in the directory and with exactly the environment given', async () => {
    const result = await runProcess('sh', ['-c', 'pwd; echo "$ONLY-$HOME"'], {
      ...extra,
      cwd: '/',
      env: { ONLY: 'x', PATH: process.env['PATH'] },
    });
    expect(result.stdout).toBe('/\nx-');
  });
});
