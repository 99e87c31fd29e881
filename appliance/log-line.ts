// The appliance's familiar console/log format: `[Mon, Jun 24 2013 10:30:12 EST] [ktether] Starting.`
// (local time, zero-padded day, 24-hour clock, time-zone abbreviation).

export const UNCLEAN_SHUTDOWN_LINE = 'tether pid file exists... unclean shutdown?';
export const TETHER_LINE = '[tether]';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, timeZone: string | undefined): Intl.DateTimeFormat {
  const id = `${locale}|${timeZone ?? ''}`;
  let f = formatters.get(id);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone,
      weekday: 'short',
      month: 'short',
      day: '2-digit',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(id, f);
  }
  return f;
}

function parts(date: Date, locale: string, timeZone: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of formatter(locale, timeZone).formatToParts(date)) out[p.type] = p.value;
  return out;
}

/** `Mon, Jun 24 2013 10:30:12 EST`; `timeZone` defaults to the process's local zone. */
export function formatLogTime(date: Date, timeZone?: string): string {
  const p = parts(date, 'en-US', timeZone);
  let zone = p.timeZoneName ?? '';
  // en-US knows abbreviations only for American zones; en-GB adds the European ones (CET, BST).
  if (/^GMT[+-]/.test(zone)) zone = parts(date, 'en-GB', timeZone).timeZoneName ?? zone;
  return `${p.weekday}, ${p.month} ${p.day} ${p.year} ${p.hour}:${p.minute}:${p.second} ${zone}`;
}

export function logLine(message: string, date: Date = new Date(), opts: { tag?: string; timeZone?: string } = {}): string {
  return `[${formatLogTime(date, opts.timeZone)}] [${opts.tag ?? 'ktether'}] ${message}`;
}
