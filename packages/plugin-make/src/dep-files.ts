/**
 * Reading make dependency files (`gcc -MMD -MP` output): which targets
 * depend on which prerequisites.
 */

/** Parses a dependency file into target → prerequisites (escaped spaces and line continuations handled). */
export function parseDepFile(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const joined = text.replace(/\\\r?\n/g, ' ');
  for (const line of joined.split(/\r?\n/)) {
    const colon = findRuleColon(line);
    if (colon < 0) continue;
    const targets = splitWords(line.slice(0, colon));
    const prerequisites = splitWords(line.slice(colon + 1).replace(/^:/, ''));
    for (const target of targets) out.set(target, [...(out.get(target) ?? []), ...prerequisites]);
  }
  return out;
}

function findRuleColon(line: string): number {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') i++;
    // A drive letter like C:/ is not a rule separator.
    else if (line[i] === ':' && line[i + 1] !== '/' && line[i + 1] !== '\\') return i;
  }
  return -1;
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && text[i + 1] === ' ') {
      current += ' ';
      i++;
    } else if (c === ' ' || c === '\t') {
      if (current) words.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current) words.push(current);
  return words;
}
