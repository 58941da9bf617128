// How reporter lines look: ANSI colours (only when told to, never by sniffing the stream) and Ansible's banners.

const CODES = {
  green: [32, 39],
  yellow: [33, 39],
  red: [31, 39],
  brightRed: [91, 39],
  cyan: [36, 39],
  magenta: [35, 39],
  bold: [1, 22],
  dim: [2, 22],
} as const;

export type Style = keyof typeof CODES;

export type Paint = (style: Style, text: string) => string;

/** A painter that colours when `color` is on and returns the text untouched otherwise. */
export function painter(color: boolean): Paint {
  if (!color) return (_style, text) => text;
  return (style, text) => (text === '' ? text : `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m`);
}

/** Ansible's colour for each outcome. */
export const STATUS_STYLE = {
  ok: 'green',
  changed: 'yellow',
  failed: 'red',
  skipped: 'cyan',
  unreachable: 'brightRed',
} as const satisfies Record<string, Style>;

/** Ansible's section banner: `PLAY [web] ****…` filled with stars to 80 columns (at least three). */
export function banner(title: string): string {
  return `${title} ${'*'.repeat(Math.max(3, 79 - title.length))}`;
}
