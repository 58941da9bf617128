// Ansible's INI inventory format, read the way Ansible's `ini` plugin reads it:
//
//   host1 ansible_host=10.0.0.1        # before any section: the host is ungrouped
//   [web]                              # a group and its hosts, one per line, `host key=value ...` (shell quoting)
//   web[01:03]:2222 ansible_user=ops   # ranges and a port are expanded by the inventory, not here
//   [web:vars]                         # `key=value` per line; everything after the first `=` is the value
//   [k8s:children]                     # one group name per line; it must be declared somewhere in the file
//
// Values go through Python's literal rules (ast.literal_eval): `1` is a number, `True` a boolean, `[1, 2]` a list,
// `"x"` a string, and anything that is not a Python literal (`yes`, `0644`, `a b`) stays the string it is.
// The parser only reads syntax: it returns the file as a list of operations the inventory applies in order.

import { InputError, type SourcePos } from '../core/source.ts';
import type { InventoryOp } from './ops.ts';

interface Token {
  text: string;
  col: number; // 1-based column of the token's first character in the raw line
}

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:[#;].*)?$/;

/** Parse an INI inventory into operations, in file order. */
export function parseIniInventory(text: string, file: string): InventoryOp[] {
  const ops: InventoryOp[] = [];
  // Ansible: [g] or [g:children] declares g; [g:vars] and a child name must refer to a group declared somewhere.
  const declared = new Set(['all', 'ungrouped']);
  const pendingChildren = new Map<string, { parent: string; pos: SourcePos }[]>();
  const pendingVars = new Map<string, SourcePos>();
  let group = 'ungrouped';
  let state: 'hosts' | 'vars' | 'children' = 'hosts';

  const declare = (name: string, pos: SourcePos): void => {
    if (!declared.has(name)) {
      declared.add(name);
      ops.push({ op: 'group', name, pos });
    }
    pendingVars.delete(name);
    // Resolve parents that named this group before it was declared.
    for (const p of pendingChildren.get(name) ?? []) ops.push({ op: 'child', parent: p.parent, child: name, pos: p.pos });
    pendingChildren.delete(name);
  };

  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') return;
    const indent = raw.length - raw.trimStart().length;
    const at = (col = indent + 1): SourcePos => ({ file, line: index + 1, col });

    const section = SECTION.exec(line);
    if (section) {
      const kind = section[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        throw new InputError(at(indent + 2 + section[1].length + 1), `section [${section[1]}:${kind}] has an unknown type "${kind}" (expected vars or children)`);
      }
      group = section[1];
      state = kind;
      if (kind === 'vars') {
        if (!declared.has(group) && !pendingVars.has(group)) pendingVars.set(group, at());
        if (!declared.has(group)) {
          declared.add(group);
          ops.push({ op: 'group', name: group, pos: at() });
        }
      } else {
        declare(group, at());
      }
      return;
    }
    if (line.startsWith('[')) {
      throw new InputError(at(), `invalid section "${line}": expected [group], [group:vars] or [group:children], with no spaces`);
    }

    if (state === 'hosts') {
      const tokens = shellSplit(raw, at);
      if (tokens.length === 0) return;
      const vars: Record<string, unknown> = {};
      for (const token of tokens.slice(1)) {
        const eq = token.text.indexOf('=');
        if (eq <= 0) throw new InputError(at(token.col), `expected key=value host variable, got "${token.text}"`);
        vars[token.text.slice(0, eq)] = parsePythonValue(token.text.slice(eq + 1));
      }
      if (tokens[0].text === '---') throw new InputError(at(tokens[0].col), 'a host named "---": this file looks like YAML; name it .yml');
      ops.push({ op: 'host', pattern: tokens[0].text, group, vars, pos: at(tokens[0].col) });
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq <= 0) throw new InputError(at(), `expected key=value in [${group}:vars], got "${line}"`);
      ops.push({ op: 'var', group, key: line.slice(0, eq).trim(), value: parsePythonValue(line.slice(eq + 1).trim()), pos: at() });
    } else {
      const m = GROUP_NAME.exec(line);
      if (!m) throw new InputError(at(), `expected a group name in [${group}:children], got "${line}"`);
      const child = m[1];
      if (declared.has(child)) ops.push({ op: 'child', parent: group, child, pos: at() });
      else pendingChildren.set(child, [...(pendingChildren.get(child) ?? []), { parent: group, pos: at() }]);
    }
  });

  for (const [child, parents] of pendingChildren) {
    const last = parents[parents.length - 1];
    throw new InputError(last.pos, `[${last.parent}:children] names group "${child}", which is not declared in this file (add a [${child}] section)`);
  }
  for (const [name, pos] of pendingVars) {
    throw new InputError(pos, `[${name}:vars] is for group "${name}", which is not declared in this file (add a [${name}] section)`);
  }
  return ops;
}

/**
 * POSIX shell word splitting as Python's shlex.split(comments=True) does it: quotes group words, a backslash escapes
 * outside single quotes, `#` starts a comment even inside a word. Each token keeps the column it starts at.
 */
function shellSplit(raw: string, at: (col: number) => SourcePos): Token[] {
  const tokens: Token[] = [];
  let current: Token | null = null;
  let i = 0;
  const push = (ch: string, col: number): void => {
    if (current) current.text += ch;
    else current = { text: ch, col };
  };
  const end = (): void => {
    if (current) tokens.push(current);
    current = null;
  };
  while (i < raw.length) {
    const ch = raw[i];
    const col = i + 1;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      end();
      i++;
    } else if (ch === '#') {
      break;
    } else if (ch === '\\') {
      if (i + 1 < raw.length) push(raw[i + 1], col);
      i += 2;
    } else if (ch === "'" || ch === '"') {
      // A quoted part joins the word it touches; an empty pair still makes a (possibly empty) token.
      if (!current) current = { text: '', col };
      let j = i + 1;
      let closed = false;
      while (j < raw.length) {
        const c = raw[j];
        if (c === ch) {
          closed = true;
          break;
        }
        if (ch === '"' && c === '\\' && (raw[j + 1] === '"' || raw[j + 1] === '\\')) {
          current.text += raw[j + 1];
          j += 2;
          continue;
        }
        current.text += c;
        j++;
      }
      if (!closed) throw new InputError(at(col), `no closing quotation for the ${ch} opened here`);
      i = j + 1;
    } else {
      push(ch, col);
      i++;
    }
  }
  end();
  return tokens;
}

// --- Python literals (ast.literal_eval), enough for inventory values --------------------------------------------

class NotALiteral extends Error {}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };

/** A value as Ansible's INI plugin reads it: a Python literal when it is one, else the text unchanged. */
export function parsePythonValue(text: string): unknown {
  try {
    return new PythonLiteralReader(text).readTop();
  } catch (error) {
    if (error instanceof NotALiteral) return text;
    throw error;
  }
}

class PythonLiteralReader {
  private i = 0;
  constructor(private readonly s: string) {}

  readTop(): unknown {
    this.skip();
    if (this.i >= this.s.length) throw new NotALiteral();
    const first = this.readValue();
    this.skip();
    if (this.s[this.i] !== ',') return this.finish(first);
    // `80, 443` is a tuple in Python: Ansible gives a list.
    const items = [first];
    while (this.s[this.i] === ',') {
      this.i++;
      this.skip();
      if (this.i >= this.s.length) break;
      items.push(this.readValue());
      this.skip();
    }
    return this.finish(items);
  }

  private finish<T>(value: T): T {
    this.skip();
    if (this.i < this.s.length) throw new NotALiteral();
    return value;
  }

  /** Whitespace and `#` comments, as Python's tokenizer skips them. */
  private skip(): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.i++;
      else if (c === '#') this.i = this.s.length;
      else break;
    }
  }

  private readValue(): unknown {
    this.skip();
    const c = this.s[this.i];
    if (c === '[') return this.readSequence(']');
    if (c === '(') return this.readSequence(')', true);
    if (c === '{') return this.readBraces();
    if (c === '"' || c === "'") {
      let out = this.readString();
      this.skip();
      // Adjacent string literals concatenate.
      while (this.s[this.i] === '"' || this.s[this.i] === "'") {
        out += this.readString();
        this.skip();
      }
      return out;
    }
    const word = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      if (word[0] === 'True') return true;
      if (word[0] === 'False') return false;
      if (word[0] === 'None') return null;
      throw new NotALiteral();
    }
    return this.readNumber();
  }

  private readNumber(): number {
    const rest = this.s.slice(this.i);
    const m =
      /^[+-]?\s*(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.)(?![\w.])/.exec(
        rest,
      );
    if (!m) throw new NotALiteral();
    this.i += m[0].length;
    let t = m[0].replace(/[\s_]/g, '');
    const negative = t.startsWith('-');
    t = t.replace(/^[+-]/, '');
    let n: number;
    if (/^0[xob]/i.test(t)) n = Number(t.toLowerCase());
    else if (/^\d+$/.test(t)) {
      // Python 3 forbids leading zeros in decimal integers: `0644` is not a literal.
      if (t.length > 1 && t.startsWith('0') && /[1-9]/.test(t)) throw new NotALiteral();
      n = Number(t);
    } else n = Number(t);
    if (Number.isNaN(n)) throw new NotALiteral();
    return negative ? -n : n;
  }

  private readString(): string {
    const quote = this.s[this.i];
    if (this.s.startsWith(quote.repeat(3), this.i)) throw new NotALiteral(); // triple quotes: not worth it here
    let out = '';
    let j = this.i + 1;
    while (j < this.s.length && this.s[j] !== quote) {
      if (this.s[j] === '\\' && j + 1 < this.s.length) {
        const e = this.s[j + 1];
        if (e in SIMPLE_ESCAPES) {
          out += SIMPLE_ESCAPES[e];
          j += 2;
        } else if (e === 'x' || e === 'u') {
          const len = e === 'x' ? 2 : 4;
          const hex = this.s.slice(j + 2, j + 2 + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new NotALiteral();
          out += String.fromCharCode(parseInt(hex, 16));
          j += 2 + len;
        } else {
          out += '\\' + e; // Python keeps unknown escapes as they are
          j += 2;
        }
      } else {
        out += this.s[j];
        j++;
      }
    }
    if (j >= this.s.length) throw new NotALiteral();
    this.i = j + 1;
    return out;
  }

  private readSequence(close: ']' | ')' | '}', tuple = false): unknown {
    this.i++;
    const items: unknown[] = [];
    let sawComma = false;
    this.skip();
    while (this.s[this.i] !== close) {
      if (this.i >= this.s.length) throw new NotALiteral();
      items.push(this.readValue());
      this.skip();
      if (this.s[this.i] === ',') {
        sawComma = true;
        this.i++;
        this.skip();
      } else if (this.s[this.i] !== close) throw new NotALiteral();
    }
    this.i++;
    // `(1)` is just 1; `(1,)` and `()` are tuples (lists for Ansible).
    if (tuple && items.length === 1 && !sawComma) return items[0];
    return items;
  }

  /** `{k: v}` is a dict, `{a, b}` a set (a list for Ansible). */
  private readBraces(): unknown {
    const start = this.i;
    this.i++;
    this.skip();
    if (this.s[this.i] === '}') {
      this.i++;
      return {};
    }
    const first = this.readValue();
    this.skip();
    if (this.s[this.i] !== ':') {
      this.i = start; // a set: read it again as a sequence
      return this.readSequence('}');
    }
    const dict: Record<string, unknown> = {};
    let key: unknown = first;
    while (true) {
      this.i++; // past ':'
      dict[String(key)] = this.readValue();
      this.skip();
      if (this.s[this.i] === ',') {
        this.i++;
        this.skip();
      } else if (this.s[this.i] !== '}') throw new NotALiteral();
      if (this.s[this.i] === '}') {
        this.i++;
        return dict;
      }
      if (this.i >= this.s.length) throw new NotALiteral();
      key = this.readValue();
      this.skip();
      if (this.s[this.i] !== ':') throw new NotALiteral();
    }
  }
}
