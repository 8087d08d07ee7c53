/**
 * What `ninja -n -d explain` says it would build: ninja prints why each node
 * is dirty (`ninja explain: output x older than most recent input y (…)`,
 * `ninja explain: output x doesn't exist`, `ninja explain: command line
 * changed for x`, `ninja explain: x is dirty`). An output that is dirty only
 * because an input is says no more than `x is dirty`; its dirty inputs, from
 * `ninja -t query`, complete its reasons.
 *
 * @packageDocumentation
 */

/** The explain lines per output, in ninja's order. */
export function parseNinjaExplain(output: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (path: string, line: string): void => {
    const list = out.get(path) ?? [];
    if (!list.includes(line)) list.push(line);
    out.set(path, list);
  };
  for (const raw of output.split('\n')) {
    const m = /^ninja explain: (.*)$/.exec(raw.trim());
    if (!m?.[1]) continue;
    const line = m[1];
    const subject =
      /^output (.+?) (?:older than|doesn't exist)/.exec(line)?.[1] ??
      /^command line changed for (.+)$/.exec(line)?.[1] ??
      /^recorded mtime of (.+?) older than/.exec(line)?.[1] ??
      /^(.+) is dirty$/.exec(line)?.[1] ??
      /^restat of output (.+?) older than/.exec(line)?.[1];
    if (subject !== undefined) add(subject, line);
  }
  return out;
}

/** `ninja -t targets all`: each output's rule (`phony` for aliases). */
export function parseNinjaTargets(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of output.split('\n')) {
    const i = line.lastIndexOf(': ');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 2).trim());
  }
  return out;
}

/** `ninja -t query a b …`: each output's explicit and implicit inputs (order-only ones left out). */
export function parseNinjaQuery(output: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let target: string | undefined;
  let section: 'input' | 'outputs' | undefined;
  for (const line of output.split('\n')) {
    if (/^\S.*:$/.test(line)) {
      target = line.slice(0, -1);
      out.set(target, []);
      section = undefined;
    } else if (/^ {2}input: /.test(line)) section = 'input';
    else if (/^ {2}outputs:/.test(line) || /^ {2}validations:/.test(line)) section = 'outputs';
    else if (target !== undefined && section === 'input' && /^ {4}\S/.test(line)) {
      const input = line.trim();
      if (!input.startsWith('|| ')) out.get(target)?.push(input.replace(/^\| /, ''));
    }
  }
  return out;
}
