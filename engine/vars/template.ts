// EJS templates (`.ejs`), rendered on the controller with a plain view of the host's variables in scope. (Any other
// template is Jinja: engine/jinja/.)
//
// Templates make config files, not HTML: `<%= x %>` prints the value as it is (no HTML escaping); plain objects and
// arrays print as JSON. An undefined variable is an error naming file:line:col, never an empty string.

import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import ejs from 'ejs';
import { InputError } from '../core/source.ts';
import { displayPath } from '../core/source.ts';

type Render = (vars: Record<string, unknown>) => string;

/** `<%= value %>` output: refuse undefined (a missing key), print objects as JSON. */
function printValue(value: unknown): string {
  if (value === undefined) throw new TypeError('printed value is undefined');
  if (value === null) return '';
  if (typeof value === 'object' && !(value instanceof Date)) return JSON.stringify(value);
  return String(value);
}

const options = (file: string): ejs.Options => ({ filename: file, escape: printValue, async: false });

// Compiled templates by file and text: a role's template renders once per host.
const compiled = new Map<string, Render>();

function compile(text: string, file: string): Render {
  const key = `${file}\0${text}`;
  let render = compiled.get(key);
  if (!render) {
    try {
      render = ejs.compile(text, options(file)) as Render;
    } catch (error) {
      throw syntaxError(error, text, file);
    }
    compiled.set(key, render);
  }
  return render;
}

/** Compile only: report a syntax error (as an InputError at file:line:col) before any host is touched. */
export function checkTemplate(text: string, file: string): void {
  compile(text, file);
}

// Names EJS's generated code uses inside its `with (locals)`: they must not be looked up as variables.
const EJS_NAMES = new Set(['escapeFn', 'include', 'rethrow', 'locals']);

// Names that resolve to JavaScript's own globals rather than to variables.
const GLOBALS = new Set([
  'undefined', 'NaN', 'Infinity', 'Math', 'JSON', 'String', 'Number', 'Boolean', 'Array', 'Object', 'Date',
  'RegExp', 'parseInt', 'parseFloat', 'isNaN', 'encodeURIComponent', 'decodeURIComponent', 'Set', 'Map',
]);

class UndefinedVariableError extends Error {
  constructor(readonly variable: string) {
    super(`undefined variable "${variable}"`);
    this.name = 'UndefinedVariableError';
  }
}

/** The host's variables (a plain view) for EJS's `with`: `vars` is the view itself, `defined(name)` tests one; an unknown name is an error. */
function templateScope(vars: Record<string, unknown>): Record<string, unknown> {
  return new Proxy(vars, {
    has: (_target, key) => typeof key === 'string' && !key.startsWith('__') && !EJS_NAMES.has(key) && !GLOBALS.has(key),
    get: (target, key) => {
      if (typeof key !== 'string') return undefined;
      if (key in target) return target[key];
      if (key === 'vars') return target;
      if (key === 'defined') return (name: string) => name in target && target[name] !== undefined;
      throw new UndefinedVariableError(key);
    },
  });
}

export function renderTemplate(text: string, file: string, vars: Record<string, unknown>): string {
  const render = compile(text, file);
  try {
    return render(templateScope(vars));
  } catch (error) {
    throw runtimeError(error, text, file);
  }
}

export function renderTemplateFile(path: string, vars: Record<string, unknown>): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(undefined, `cannot read template ${displayPath(path)}: ${(error as Error).message}`);
  }
  return renderTemplate(text, path, vars);
}

function at(file: string, line: number, col: number, message: string): InputError {
  return new InputError({ file: displayPath(file), line, col }, message);
}

/** Column of `word` on a template line (inside a tag when possible), else of the line's first tag, else 1. */
function columnOf(lineText: string, word?: string): number {
  const tag = lineText.indexOf('<%');
  if (word) {
    const re = new RegExp(`(?<![\\w$.])${word.replace(/[$]/g, '\\$')}(?![\\w$])`, 'g');
    for (const m of lineText.matchAll(re)) {
      if (tag >= 0 && m.index >= tag) return m.index + 1;
    }
  }
  return tag >= 0 ? tag + 1 : 1;
}

function runtimeError(error: unknown, text: string, file: string): InputError {
  if (!(error instanceof Error)) return at(file, 1, 1, String(error));
  // EJS rewrites the message as "file:line\n<context>\n\n<original message>".
  const m = /^.*:(\d+)\n[\s\S]*?\n\n([\s\S]*)$/.exec(error.message);
  const line = m ? Number(m[1]) : 1;
  let detail = m ? m[2] : error.message;
  const undefinedName =
    error instanceof UndefinedVariableError
      ? error.variable
      : error.name === 'ReferenceError'
        ? /^(\S+) is not defined$/.exec(detail)?.[1]
        : undefined;
  if (undefinedName) detail = `undefined variable ${undefinedName}`;
  return at(file, line, columnOf(text.split('\n')[line - 1] ?? '', undefinedName), detail);
}

function syntaxError(error: unknown, text: string, file: string): InputError {
  const message = error instanceof Error ? error.message.split('\n')[0].replace(/ in \S+ while compiling ejs$/, '') : String(error);
  const line = unclosedTagLine(text) ?? generatedErrorLine(text, file) ?? 1;
  return at(file, line, columnOf(text.split('\n')[line - 1] ?? ''), message);
}

/** The line of a `<%` with no `%>` after it (EJS says "Could not find matching close tag" without a line). */
function unclosedTagLine(text: string): number | undefined {
  let from = 0;
  while (true) {
    const open = text.indexOf('<%', from);
    if (open < 0) return undefined;
    const close = text.indexOf('%>', open + 2);
    if (close < 0) return text.slice(0, open).split('\n').length;
    from = close + 2;
  }
}

/**
 * EJS reports a JavaScript syntax error without a line. Compile its generated code ourselves: V8 names the generated
 * line, and EJS's `__line = N` markers before it map that back to the template's line.
 */
function generatedErrorLine(text: string, file: string): number | undefined {
  let source: string;
  try {
    // generateSource and source are EJS internals its types leave out.
    const template = new ejs.Template(text, options(file)) as unknown as { generateSource(): void; source: string };
    template.generateSource();
    source = template.source;
  } catch {
    return undefined;
  }
  try {
    new Script(`(function(){\n${source}\n})`, { filename: 'ejs' });
    return undefined;
  } catch (error) {
    const generatedLine = Number(/^ejs:(\d+)/.exec((error as Error).stack ?? '')?.[1]);
    if (!generatedLine) return undefined;
    const lines = source.split('\n').slice(0, generatedLine - 1);
    for (let i = lines.length - 1; i >= 0; i--) {
      const marker = /__line = (\d+)/.exec(lines[i]);
      if (marker) return Number(marker[1]);
    }
    return 1;
  }
}
