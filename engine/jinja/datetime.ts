// `to_datetime` and what Python lets a template do with its result: subtract two datetimes, read a timedelta's
// days/seconds/total_seconds(), a datetime's parts, format it with strftime.

import { Callable, JinjaRuntimeError, PyDateTime, PyTimeDelta, makeFloat, pyTypeName } from './values.ts';

const FIELDS: Record<string, string> = {
  '%Y': '(?<Y>\\d{4})', '%m': '(?<m>\\d{1,2})', '%d': '(?<d>\\d{1,2})', '%H': '(?<H>\\d{1,2})', '%M': '(?<M>\\d{1,2})',
  '%S': '(?<S>\\d{1,2})', '%f': '(?<f>\\d{1,6})', '%y': '(?<y>\\d{2})', '%j': '(?<j>\\d{1,3})', '%%': '%',
  '%b': '(?<b>[A-Za-z]{3})', '%B': '(?<B>[A-Za-z]+)', '%p': '(?<p>AM|PM|am|pm)', '%I': '(?<I>\\d{1,2})', '%z': '(?<z>[+-]\\d{4}|Z)',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Python's datetime.strptime for the common directives. */
export function strptime(text: string, format: string): PyDateTime {
  const re = new RegExp('^' + format.replace(/%[a-zA-Z%]|[.*+?^${}()|[\]\\]/g, (m) => FIELDS[m] ?? (m.startsWith('%') ? m : '\\' + m)) + '$');
  const g = re.exec(text)?.groups;
  if (!g) throw new JinjaRuntimeError(`time data '${text}' does not match format '${format}'`);
  const year = g.Y ? Number(g.Y) : g.y ? 2000 + Number(g.y) - (Number(g.y) >= 69 ? 100 : 0) : 1900;
  const month = g.m ? Number(g.m) : g.b ? MONTHS.indexOf(g.b.toLowerCase()) + 1 : g.B ? MONTHS.indexOf(g.B.slice(0, 3).toLowerCase()) + 1 : 1;
  let hour = g.H ? Number(g.H) : g.I ? Number(g.I) % 12 : 0;
  if (g.p && g.p.toLowerCase() === 'pm') hour += 12;
  const micro = g.f ? Number(g.f.padEnd(6, '0')) : 0;
  let ms = Date.UTC(year, month - 1, g.d ? Number(g.d) : 1, hour, g.M ? Number(g.M) : 0, g.S ? Number(g.S) : 0) + micro / 1000;
  if (g.j) ms = Date.UTC(year, 0, Number(g.j), hour);
  return new PyDateTime(ms);
}

export function dateArith(op: string, a: unknown, b: unknown): unknown {
  if (op === 'Sub' && a instanceof PyDateTime && b instanceof PyDateTime) return new PyTimeDelta((a.ms - b.ms) / 1000);
  if (op === 'Sub' && a instanceof PyDateTime && b instanceof PyTimeDelta) return new PyDateTime(a.ms - b.seconds * 1000);
  if (op === 'Add' && a instanceof PyDateTime && b instanceof PyTimeDelta) return new PyDateTime(a.ms + b.seconds * 1000);
  if (op === 'Add' && a instanceof PyTimeDelta && b instanceof PyDateTime) return new PyDateTime(b.ms + a.seconds * 1000);
  if ((op === 'Add' || op === 'Sub') && a instanceof PyTimeDelta && b instanceof PyTimeDelta) return new PyTimeDelta(op === 'Add' ? a.seconds + b.seconds : a.seconds - b.seconds);
  const sym = op === 'Add' ? '+' : op === 'Sub' ? '-' : op;
  throw new JinjaRuntimeError(`unsupported operand type(s) for ${sym}: '${pyTypeName(a)}' and '${pyTypeName(b)}'`);
}

export function dateAttribute(target: PyDateTime | PyTimeDelta, name: string): unknown {
  if (target instanceof PyTimeDelta) {
    const days = Math.floor(target.seconds / 86400);
    const rest = target.seconds - days * 86400;
    switch (name) {
      case 'days':
        return days;
      case 'seconds':
        return Math.floor(rest);
      case 'microseconds':
        return Math.round((rest - Math.floor(rest)) * 1e6);
      case 'total_seconds':
        return new Callable('total_seconds', () => makeFloat(target.seconds));
      default:
        return undefined;
    }
  }
  const d = new Date(target.ms);
  switch (name) {
    case 'year':
      return d.getUTCFullYear();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'day':
      return d.getUTCDate();
    case 'hour':
      return d.getUTCHours();
    case 'minute':
      return d.getUTCMinutes();
    case 'second':
      return d.getUTCSeconds();
    case 'microsecond':
      return Math.round((target.ms % 1000) * 1000);
    case 'timestamp':
      return new Callable('timestamp', () => makeFloat(target.ms / 1000));
    case 'isoformat':
      return new Callable('isoformat', () => target.toString().replace(' ', 'T'));
    case 'strftime':
      return new Callable('strftime', (a) => strftimeUtc(String(a[0]), target.ms));
    default:
      return undefined;
  }
}

function strftimeUtc(fmt: string, ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  const map: Record<string, string> = {
    Y: String(d.getUTCFullYear()), m: p(d.getUTCMonth() + 1), d: p(d.getUTCDate()), H: p(d.getUTCHours()),
    M: p(d.getUTCMinutes()), S: p(d.getUTCSeconds()), y: p(d.getUTCFullYear() % 100), '%': '%',
  };
  return fmt.replace(/%([a-zA-Z%])/g, (m, c: string) => map[c] ?? m);
}


