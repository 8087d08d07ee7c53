/**
 * Whether an autotools tree is configured as the plugin's `configure` option
 * asks: `config.status --config` prints the arguments configure ran with,
 * quoted for the shell (autoconf quotes only what needs it, depending on its
 * version) and with the precious variables configure took from the
 * environment (`CC=…`, `CFLAGS=…`) added.
 */

/** The words of a shell command line: single and double quotes and backslashes, as `sh` splits it (no expansions). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word = (word ?? '') + text.slice(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1] as string)) i++;
        word += text[i];
      }
    } else if (c === '\\') {
      if (i + 1 < text.length) word = (word ?? '') + text[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * True when `printed` (the output of `config.status --config`) names exactly
 * the `wanted` arguments, less the `NAME=value` words configure added from
 * `env` (a precious variable the user did not pass, with the value the
 * environment still has).
 */
export function isConfiguredWith(printed: string, wanted: readonly string[], env: Readonly<Record<string, string | undefined>>): boolean {
  const passed = new Set(wanted.map((arg) => /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(arg)?.[1]).filter((name) => name !== undefined));
  const words = shellWords(printed.trim()).filter((word) => {
    const name = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(word)?.[1];
    return name === undefined || passed.has(name) || env[name] !== word.slice(name.length + 1);
  });
  return words.length === wanted.length && words.every((word, i) => word === wanted[i]);
}
