// Reads a stored RFC 5322 mail just far enough to show or check it: unfolded headers, encoded-word
// subjects, and the decoded text/plain and text/html parts (7bit, quoted-printable or base64).
// Not a general MIME parser: nested multiparts are walked, attachments ignored.

export interface ParsedMail {
  headers: Map<string, string>;
  subject: string;
  to: string;
  from: string;
  messageId: string;
  text: string | undefined;
  html: string | undefined;
}

function splitHead(raw: string): { head: string; body: string } {
  const i = raw.search(/\r?\n\r?\n/);
  if (i < 0) return { head: raw, body: '' };
  const sep = raw.slice(i).startsWith('\r\n\r\n') ? 4 : 2;
  return { head: raw.slice(0, i), body: raw.slice(i + sep) };
}

function parseHeaders(head: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const c = line.indexOf(':');
    if (c > 0) map.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return map;
}

function decodeQp(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(soft.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? '7bit').toLowerCase();
  if (enc === 'quoted-printable') return decodeQp(body).toString('utf8');
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** =?UTF-8?Q?...?= and =?UTF-8?B?...?= words in header values. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQp(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

function walk(head: Map<string, string>, body: string, out: { text?: string; html?: string }): void {
  const type = head.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const { head: h, body: b } = splitHead(part.replace(/^\r?\n/, ''));
      walk(parseHeaders(h), b.replace(/\r?\n$/, ''), out);
    }
    return;
  }
  const decoded = decodeBody(body, head.get('content-transfer-encoding'));
  if (/^text\/html/i.test(type)) out.html ??= decoded;
  else if (/^text\/plain/i.test(type)) out.text ??= decoded;
}

export function parseMail(raw: Buffer | string): ParsedMail {
  const { head, body } = splitHead(typeof raw === 'string' ? raw : raw.toString('utf8'));
  const headers = parseHeaders(head);
  const parts: { text?: string; html?: string } = {};
  walk(headers, body, parts);
  return {
    headers,
    subject: decodeWords(headers.get('subject') ?? ''),
    to: decodeWords(headers.get('to') ?? ''),
    from: decodeWords(headers.get('from') ?? ''),
    messageId: headers.get('message-id') ?? '',
    text: parts.text?.replace(/\r\n/g, '\n'),
    html: parts.html,
  };
}

/** The tether key in a key mail's text: the line starting `KT1.` and the lines after it up to a blank line. */
export function keyFromMailText(text: string): string | undefined {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim().startsWith('KT1.'));
  if (start < 0) return undefined;
  const out: string[] = [];
  for (let i = start; i < lines.length && lines[i]!.trim() !== ''; i++) out.push(lines[i]!.trim());
  return out.join('');
}
