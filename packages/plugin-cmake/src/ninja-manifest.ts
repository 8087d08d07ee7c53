/**
 * A faithful reader for ninja manifests (`build.ninja` and the files it
 * `include`s or `subninja`s), written after ninja-build/ninja 1.11
 * `src/lexer.in.cc`, `src/manifest_parser.cc`, `src/eval_env.cc` and
 * `src/graph.cc`. It evaluates every edge's `command` and `rspfile_content`
 * the way ninja does, which `ninja -t commands` and `ninja -t compdb` cannot
 * give completely (see `ninja-commands.ts`).
 *
 * @packageDocumentation
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Thrown for a manifest ninja itself would reject. */
export class NinjaManifestError extends Error {
  override readonly name = 'NinjaManifestError';
  readonly code = 'NINJA_MANIFEST_PARSE';
  /** The manifest file, as named in the include chain. */
  readonly file: string;

  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.file = file;
  }
}

/** An edge of the build graph, paths canonicalized like ninja's nodes. */
export interface NinjaEdge {
  readonly rule: string;
  /** Explicit outputs, then implicit ones (`| out`). */
  readonly outputs: readonly string[];
  readonly implicitOutputs: number;
  /** Explicit inputs, then implicit (`| in`), then order-only (`|| in`). */
  readonly inputs: readonly string[];
  readonly implicitInputs: number;
  readonly orderOnlyInputs: number;
  /** Evaluates a binding with ninja's lookup rules, like `Edge::GetBinding` ($in and $out shell-escaped). */
  getBinding(name: string): string;
  /** Like {@link NinjaEdge.getBinding} without shell escaping, like `Edge::GetUnescapedRspfile`. */
  getUnescapedBinding(name: string): string;
}

/** The parsed manifest. */
export interface NinjaManifest {
  /** Every non-duplicate edge in manifest order, phony edges included. */
  readonly edges: readonly NinjaEdge[];
}

/** Options for {@link parseNinjaManifest}. */
export interface ParseNinjaManifestOptions {
  /**
   * Reads an included file; paths are relative to the directory ninja runs
   * in. Defaults to reading from `cwd`.
   */
  readonly readFile?: (path: string) => string;
  /** The directory ninja runs in; include paths resolve against it. @default process.cwd() */
  readonly cwd?: string;
}

// ---------------------------------------------------------------------------
// Scopes and evaluated strings.

type EvalPart = { readonly text: string } | { readonly variable: string };
type EvalString = readonly EvalPart[];

class Rule {
  readonly bindings = new Map<string, EvalString>();
  constructor(readonly name: string) {}
}

class BindingEnv {
  readonly bindings = new Map<string, string>();
  readonly rules = new Map<string, Rule>();
  constructor(readonly parent: BindingEnv | undefined) {}

  lookupVariable(name: string): string {
    const value = this.bindings.get(name);
    if (value !== undefined) return value;
    return this.parent ? this.parent.lookupVariable(name) : '';
  }

  lookupRule(name: string): Rule | undefined {
    return this.rules.get(name) ?? this.parent?.lookupRule(name);
  }

  /** `BindingEnv::LookupWithFallback`: own bindings, then the rule's, then the parents. */
  lookupWithFallback(name: string, fallback: EvalString | undefined, env: Env): string {
    const value = this.bindings.get(name);
    if (value !== undefined) return value;
    if (fallback) return evaluate(fallback, env);
    return this.parent ? this.parent.lookupVariable(name) : '';
  }
}

interface Env {
  lookupVariable(name: string): string;
}

function evaluate(value: EvalString, env: Env): string {
  let result = '';
  for (const part of value) result += 'text' in part ? part.text : env.lookupVariable(part.variable);
  return result;
}

const PHONY = new Rule('phony');
const RESERVED_BINDINGS = new Set([
  'command',
  'depfile',
  'dyndep',
  'description',
  'deps',
  'generator',
  'pool',
  'restat',
  'rspfile',
  'rspfile_content',
  'msvc_deps_prefix',
]);

/** Ninja's `IsKnownShellSafeCharacter`. */
const SHELL_SAFE = /^[A-Za-z0-9_+\-./]*$/;

/** Ninja's `GetShellEscapedString` (POSIX): single quotes, `'` becomes `'\''`. */
export function shellEscapeNinja(path: string): string {
  if (SHELL_SAFE.test(path)) return path;
  return `'${path.replaceAll("'", "'\\''")}'`;
}

/** Ninja's `CanonicalizePath` (POSIX): drops `.` and empty components, folds `..`. */
export function canonicalizeNinjaPath(path: string): string {
  if (path === '') return path;
  const absolute = path.startsWith('/');
  const out: string[] = [];
  let components = 0; // components that a later `..` may remove
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (components > 0) {
        out.pop();
        components--;
      } else {
        out.push('..');
      }
      continue;
    }
    out.push(part);
    components++;
  }
  const joined = out.join('/');
  if (absolute) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

class Edge implements NinjaEdge {
  outputs: string[] = [];
  inputs: string[] = [];
  implicitOutputs = 0;
  implicitInputs = 0;
  orderOnlyInputs = 0;

  constructor(
    readonly ruleObject: Rule,
    readonly env: BindingEnv,
  ) {}

  get rule(): string {
    return this.ruleObject.name;
  }

  getBinding(name: string): string {
    return new EdgeEnv(this, true).lookupVariable(name);
  }

  getUnescapedBinding(name: string): string {
    return new EdgeEnv(this, false).lookupVariable(name);
  }
}

/** `EdgeEnv`: `$in`, `$in_newline`, `$out`, then edge, rule and scope bindings. */
class EdgeEnv implements Env {
  readonly #lookups: string[] = [];
  #recursive = false;
  readonly #escape: (path: string) => string;
  constructor(
    readonly edge: Edge,
    shellEscape: boolean,
  ) {
    this.#escape = shellEscape ? shellEscapeNinja : (path) => path;
  }

  lookupVariable(name: string): string {
    const edge = this.edge;
    if (name === 'in' || name === 'in_newline') {
      const explicit = edge.inputs.length - edge.implicitInputs - edge.orderOnlyInputs;
      return edge.inputs
        .slice(0, explicit)
        .map(this.#escape)
        .join(name === 'in' ? ' ' : '\n');
    }
    if (name === 'out') {
      return edge.outputs
        .slice(0, edge.outputs.length - edge.implicitOutputs)
        .map(this.#escape)
        .join(' ');
    }
    if (this.#recursive && this.#lookups.includes(name)) {
      throw new Error(`cycle in rule variables: ${[...this.#lookups, name].join(' -> ')}`);
    }
    const fallback = edge.ruleObject.bindings.get(name);
    const record = this.#recursive && fallback !== undefined;
    if (record) this.#lookups.push(name);
    this.#recursive = true;
    const result = edge.env.lookupWithFallback(name, fallback, this);
    if (record) this.#lookups.pop();
    return result;
  }
}

// ---------------------------------------------------------------------------
// Lexer (lexer.in.cc).

type Token =
  | 'BUILD'
  | 'COLON'
  | 'DEFAULT'
  | 'EQUALS'
  | 'IDENT'
  | 'INCLUDE'
  | 'INDENT'
  | 'NEWLINE'
  | 'PIPE'
  | 'PIPE2'
  | 'PIPEAT'
  | 'POOL'
  | 'RULE'
  | 'SUBNINJA'
  | 'TEOF'
  | 'ERROR';

const KEYWORDS: Readonly<Record<string, Token>> = {
  build: 'BUILD',
  pool: 'POOL',
  rule: 'RULE',
  default: 'DEFAULT',
  include: 'INCLUDE',
  subninja: 'SUBNINJA',
};
const VARNAME = /[a-zA-Z0-9_.-]/;
const SIMPLE_VARNAME = /[a-zA-Z0-9_-]/;
// Runs scanned by one sticky regex each instead of a test per character: the
// manifest is parsed once per restore, cold, so the interpreter's per-character
// cost is most of it.
const VARNAME_RUN = /[a-zA-Z0-9_.-]+/y;
const SIMPLE_VARNAME_RUN = /[a-zA-Z0-9_-]+/y;
const TEXT_RUN = /[^$ :\r\n|\0]+/y;

/** The end of the run of `re` (sticky) in `s` from `p`; `p` when there is none. */
function runEnd(re: RegExp, s: string, p: number): number {
  re.lastIndex = p;
  return re.test(s) ? re.lastIndex : p;
}

class Lexer {
  #pos = 0;
  #lastToken = 0;
  constructor(
    readonly file: string,
    readonly input: string,
  ) {}

  error(message: string): NinjaManifestError {
    const line = this.input.slice(0, this.#lastToken).split('\n').length;
    return new NinjaManifestError(this.file, `line ${line}: ${message}`);
  }

  readToken(): Token {
    const s = this.input;
    for (;;) {
      const start = this.#pos;
      this.#lastToken = start;
      let p = start;
      while (s[p] === ' ') p++;
      const c = s[p];
      if (c === '#') {
        // A comment runs to the end of the line, newline included.
        const nl = s.indexOf('\n', p);
        if (nl < 0) {
          this.#pos = s.length;
          return 'TEOF';
        }
        this.#pos = nl + 1;
        continue;
      }
      let token: Token;
      if (c === '\r' && s[p + 1] === '\n') {
        this.#pos = p + 2;
        token = 'NEWLINE';
      } else if (c === '\n') {
        this.#pos = p + 1;
        token = 'NEWLINE';
      } else if (p > start) {
        this.#pos = p;
        token = 'INDENT';
      } else if (c === undefined) {
        token = 'TEOF';
      } else if (c === '|' && s[p + 1] === '@') {
        this.#pos = p + 2;
        token = 'PIPEAT';
      } else if (c === '|' && s[p + 1] === '|') {
        this.#pos = p + 2;
        token = 'PIPE2';
      } else if (c === '|') {
        this.#pos = p + 1;
        token = 'PIPE';
      } else if (c === ':') {
        this.#pos = p + 1;
        token = 'COLON';
      } else if (c === '=') {
        this.#pos = p + 1;
        token = 'EQUALS';
      } else if (VARNAME.test(c)) {
        const q = runEnd(VARNAME_RUN, s, p);
        token = KEYWORDS[s.slice(p, q)] ?? 'IDENT';
        this.#pos = q;
      } else {
        token = 'ERROR';
      }
      if (token !== 'NEWLINE' && token !== 'TEOF') this.#eatWhitespace();
      return token;
    }
  }

  /** Ninja's `UnreadToken`: back to the start of the last token. */
  unreadToken(): void {
    this.#pos = this.#lastToken;
  }

  peekToken(token: Token): boolean {
    const saved = this.#pos;
    const savedLast = this.#lastToken;
    if (this.readToken() === token) return true;
    this.#pos = saved;
    this.#lastToken = savedLast;
    return false;
  }

  #eatWhitespace(): void {
    const s = this.input;
    for (;;) {
      if (s[this.#pos] === ' ') this.#pos++;
      else if (s[this.#pos] === '$' && s[this.#pos + 1] === '\n') this.#pos += 2;
      else if (s[this.#pos] === '$' && s[this.#pos + 1] === '\r' && s[this.#pos + 2] === '\n') this.#pos += 3;
      else return;
    }
  }

  readIdent(): string | undefined {
    const s = this.input;
    const start = this.#pos;
    const p = runEnd(VARNAME_RUN, s, start);
    this.#lastToken = start;
    if (p === start) return undefined;
    this.#pos = p;
    this.#eatWhitespace();
    return s.slice(start, p);
  }

  /** `ReadEvalString`: a path stops at a blank, `:`, `|` or newline; a value at the newline. */
  readEvalString(path: boolean): EvalString {
    const s = this.input;
    const parts: EvalPart[] = [];
    const text = (t: string): void => {
      const last = parts[parts.length - 1];
      if (last && 'text' in last) parts[parts.length - 1] = { text: last.text + t };
      else parts.push({ text: t });
    };
    let p = this.#pos;
    for (;;) {
      const start = p;
      this.#lastToken = start;
      const c = s[p];
      if (c === undefined || c === '\0') throw this.error('unexpected EOF');
      if (c === '\r' && s[p + 1] === '\n') {
        if (!path) p += 2;
        break;
      }
      if (c === ' ' || c === ':' || c === '|' || c === '\n') {
        if (path) break;
        p++;
        if (c === '\n') break;
        text(c);
        continue;
      }
      if (c === '$') {
        const d = s[p + 1];
        if (d === '$' || d === ' ' || d === ':') {
          text(d);
          p += 2;
        } else if (d === '\n' || (d === '\r' && s[p + 2] === '\n')) {
          p += d === '\n' ? 2 : 3;
          while (s[p] === ' ') p++;
        } else if (d === '{') {
          const q = runEnd(VARNAME_RUN, s, p + 2);
          if (q === p + 2 || s[q] !== '}') throw this.error('bad $-escape (literal $ must be written as $$)');
          parts.push({ variable: s.slice(p + 2, q) });
          p = q + 1;
        } else if (d !== undefined && SIMPLE_VARNAME.test(d)) {
          const q = runEnd(SIMPLE_VARNAME_RUN, s, p + 1);
          parts.push({ variable: s.slice(p + 1, q) });
          p = q;
        } else {
          throw this.error('bad $-escape (literal $ must be written as $$)');
        }
        continue;
      }
      if (c === '\r') {
        // A lone \r is a lexer error in ninja.
        throw this.error('carriage returns are not allowed, use newlines');
      }
      const q = runEnd(TEXT_RUN, s, p);
      text(s.slice(p, q));
      p = q;
    }
    this.#pos = p;
    if (path) this.#eatWhitespace();
    return parts;
  }
}

// ---------------------------------------------------------------------------
// Parser (manifest_parser.cc).

class Parser {
  constructor(
    readonly state: { edges: Edge[]; outputs: Set<string> },
    readonly env: BindingEnv,
    readonly options: Required<ParseNinjaManifestOptions>,
  ) {}

  load(file: string): void {
    let content: string;
    try {
      content = this.options.readFile(file);
    } catch (cause) {
      throw new NinjaManifestError(file, `cannot read: ${(cause as Error).message}`);
    }
    this.parse(new Lexer(file, content));
  }

  parse(lexer: Lexer): void {
    for (;;) {
      const token = lexer.readToken();
      switch (token) {
        case 'POOL':
          this.parsePool(lexer);
          break;
        case 'BUILD':
          this.parseEdge(lexer);
          break;
        case 'RULE':
          this.parseRule(lexer);
          break;
        case 'DEFAULT':
          this.parseDefault(lexer);
          break;
        case 'IDENT': {
          lexer.unreadToken();
          const [name, value] = this.parseLet(lexer);
          this.env.bindings.set(name, evaluate(value, this.env));
          break;
        }
        case 'INCLUDE':
        case 'SUBNINJA':
          this.parseInclude(lexer, token === 'SUBNINJA');
          break;
        case 'NEWLINE':
          break;
        case 'TEOF':
          return;
        default:
          throw lexer.error(`unexpected ${token}`);
      }
    }
  }

  expect(lexer: Lexer, token: Token): void {
    const got = lexer.readToken();
    if (got !== token) throw lexer.error(`expected ${token}, got ${got}`);
  }

  parseLet(lexer: Lexer): [string, EvalString] {
    const name = lexer.readIdent();
    if (name === undefined) throw lexer.error('expected variable name');
    this.expect(lexer, 'EQUALS');
    return [name, lexer.readEvalString(false)];
  }

  parseRule(lexer: Lexer): void {
    const name = lexer.readIdent();
    if (name === undefined) throw lexer.error('expected rule name');
    this.expect(lexer, 'NEWLINE');
    if (this.env.rules.has(name)) throw lexer.error(`duplicate rule '${name}'`);
    const rule = new Rule(name);
    while (lexer.peekToken('INDENT')) {
      const [key, value] = this.parseLet(lexer);
      if (!RESERVED_BINDINGS.has(key)) throw lexer.error(`unexpected variable '${key}'`);
      rule.bindings.set(key, value);
    }
    const rspfile = rule.bindings.get('rspfile');
    const content = rule.bindings.get('rspfile_content');
    if ((rspfile === undefined || rspfile.length === 0) !== (content === undefined || content.length === 0)) {
      throw lexer.error('rspfile and rspfile_content need to be both specified');
    }
    if (!rule.bindings.has('command')) throw lexer.error("expected 'command =' line");
    this.env.rules.set(name, rule);
  }

  parsePool(lexer: Lexer): void {
    const name = lexer.readIdent();
    if (name === undefined) throw lexer.error('expected pool name');
    this.expect(lexer, 'NEWLINE');
    while (lexer.peekToken('INDENT')) this.parseLet(lexer);
  }

  parseDefault(lexer: Lexer): void {
    if (lexer.readEvalString(true).length === 0) throw lexer.error('expected target name');
    while (lexer.readEvalString(true).length > 0) {
      // Defaults do not matter for commands.
    }
    this.expect(lexer, 'NEWLINE');
  }

  parseInclude(lexer: Lexer, newScope: boolean): void {
    const path = evaluate(lexer.readEvalString(true), this.env);
    const child = new Parser(this.state, newScope ? new BindingEnv(this.env) : this.env, this.options);
    child.load(path);
    this.expect(lexer, 'NEWLINE');
  }

  readPaths(lexer: Lexer, into: EvalString[]): number {
    let count = 0;
    for (;;) {
      const path = lexer.readEvalString(true);
      if (path.length === 0) return count;
      into.push(path);
      count++;
    }
  }

  parseEdge(lexer: Lexer): void {
    const outs: EvalString[] = [];
    if (this.readPaths(lexer, outs) === 0) throw lexer.error('expected path');
    let implicitOuts = 0;
    if (lexer.peekToken('PIPE')) implicitOuts = this.readPaths(lexer, outs);
    this.expect(lexer, 'COLON');
    const ruleName = lexer.readIdent();
    if (ruleName === undefined) throw lexer.error('expected build command name');
    const rule = ruleName === 'phony' ? PHONY : this.env.lookupRule(ruleName);
    if (!rule) throw lexer.error(`unknown build rule '${ruleName}'`);
    const ins: EvalString[] = [];
    this.readPaths(lexer, ins);
    let implicit = 0;
    let orderOnly = 0;
    if (lexer.peekToken('PIPE')) implicit = this.readPaths(lexer, ins);
    if (lexer.peekToken('PIPE2')) orderOnly = this.readPaths(lexer, ins);
    if (lexer.peekToken('PIPEAT')) this.readPaths(lexer, []);
    this.expect(lexer, 'NEWLINE');

    // Edge bindings are evaluated right away, in the enclosing scope.
    let env = this.env;
    if (lexer.peekToken('INDENT')) {
      env = new BindingEnv(this.env);
      do {
        const [key, value] = this.parseLet(lexer);
        env.bindings.set(key, evaluate(value, this.env));
      } while (lexer.peekToken('INDENT'));
    }

    const edge = new Edge(rule, env);
    outs.forEach((out, i) => {
      const path = canonicalizeNinjaPath(evaluate(out, env));
      if (path === '') throw lexer.error('empty path');
      if (this.state.outputs.has(path)) {
        // ninja 1.11 defaults to -w dupbuild=err.
        throw lexer.error(`multiple rules generate ${path}`);
      }
      this.state.outputs.add(path);
      edge.outputs.push(path);
      if (i >= outs.length - implicitOuts) edge.implicitOutputs++;
    });
    for (const input of ins) {
      const path = canonicalizeNinjaPath(evaluate(input, env));
      if (path === '') throw lexer.error('empty path');
      edge.inputs.push(path);
    }
    edge.implicitInputs = implicit;
    edge.orderOnlyInputs = orderOnly;
    this.state.edges.push(edge);
  }
}

/**
 * Parses `file` (default `build.ninja`) and everything it includes, as ninja
 * would when run in `options.cwd`.
 *
 * @throws {@link NinjaManifestError} for a manifest ninja would reject, naming
 *   the file and line.
 */
export function parseNinjaManifest(file = 'build.ninja', options: ParseNinjaManifestOptions = {}): NinjaManifest {
  const cwd = options.cwd ?? process.cwd();
  const resolved: Required<ParseNinjaManifestOptions> = {
    cwd,
    readFile: options.readFile ?? ((path) => readFileSync(resolve(cwd, path), 'utf8')),
  };
  const state = { edges: [] as Edge[], outputs: new Set<string>() };
  new Parser(state, new BindingEnv(undefined), resolved).load(file);
  return { edges: state.edges };
}
