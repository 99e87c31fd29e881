// Wording helpers shared by the mail templates: HTML escaping, the expiry in the customer's terms,
// close reasons in plain words, and the one HTML layout. No I/O.
import type { CloseReason } from '../session/session-machine.js';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const UNITS: readonly [string, number][] = [
  ['week', 604_800_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
];

/** "7 days", "1 hour 30 minutes", "45 seconds": at most two units, rounded down. */
export function humanDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, ms);
  for (const [name, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
      rest -= n * size;
    }
    if (parts.length === 2) break;
  }
  return parts.length ? parts.join(' ') : 'less than a second';
}

// Built once: constructing an Intl.DateTimeFormat costs ~50× formatting with one.
const WHEN_FORMAT = new Intl.DateTimeFormat('en-GB', {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
  hour12: false,
});

/** "Friday, 5 December 2025, 14:30 UTC" */
export function formatWhen(at: number): string {
  return WHEN_FORMAT.format(new Date(at)).replace(' at ', ', ').concat(' UTC');
}

/** "Friday, 5 December 2025, 14:30 UTC (in 7 days)" */
export function formatExpiry(expiresAt: number, now: number): string {
  const left = expiresAt - now;
  return left > 0 ? `${formatWhen(expiresAt)} (in ${humanDuration(left)})` : `${formatWhen(expiresAt)} (already passed)`;
}

export const CLOSE_REASON_TEXT: Record<CloseReason, string> = {
  expired: 'the key reached its expiry time',
  revoked: 'support revoked the access',
  ticket_closed: 'the support ticket was closed',
  customer_disabled: 'it was disabled on the appliance',
  superseded: 'a newer key replaced it',
};

export function productName(product: 'sma' | 'sda', version?: string): string {
  return `${product.toUpperCase()}${version ? ` ${version}` : ''}`;
}

export function layoutHtml(title: string, bodyHtml: string): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>',
    escapeHtml(title),
    '</title></head>',
    '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 14px; line-height: 1.5; color: #222;">',
    bodyHtml,
    '<p style="color:#777; font-size: 12px;">This message was sent by the tether service of your support team.</p>',
    '</body></html>',
  ].join('');
}

const TEXT_WIDTH = 72;

function wrapLine(line: string): string[] {
  if (line.length <= TEXT_WIDTH) return [line];
  const indent = /^(\d+\. |- )/.exec(line)?.[0].replace(/./g, ' ') ?? '';
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current && current.length + 1 + word.length > TEXT_WIDTH) {
      out.push(current);
      current = indent + word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out;
}

/**
 * The text part: plain ASCII ("›" becomes ">") wrapped at 72 columns, so mailers send it as 7bit
 * and the stored .eml shows every line, the key's included, exactly as the customer sees it.
 */
export function finishText(lines: readonly string[]): string {
  return lines
    .map((l) => l.replace(/›/g, '>').replace(/[^\x00-\x7f]/g, '?'))
    .flatMap(wrapLine)
    .join('\n');
}

/** Paragraphs of plain text → HTML paragraphs (escaped). */
export function paragraphsHtml(paragraphs: readonly string[]): string {
  return paragraphs.map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`).join('');
}
