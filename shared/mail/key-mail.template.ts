// The key delivery mail, in text and HTML: the key alone on its own lines (wrapped at 64
// characters so no mail client or encoding has to break it), its expiry in the customer's terms,
// and the exact steps for the appliance's product and version.
import type { Product } from '../key/tether-key.schema.js';
import type { TicketRef } from '../session/session.schema.js';
import { applianceSteps } from './appliance-steps.js';
import { escapeHtml, finishText, formatExpiry, humanDuration, layoutHtml, productName, type RenderedMail } from './mail-format.js';

export const KEY_LINE_WIDTH = 64;

export interface KeyMailInput {
  serial: string;
  product: Product;
  version?: string | undefined;
  key: string;
  issuedAt: number;
  expiresAt: number;
  now: number;
  ticket?: TicketRef | undefined;
}

export function wrapKey(key: string, width = KEY_LINE_WIDTH): string[] {
  const compact = key.replace(/\s+/g, '');
  const lines: string[] = [];
  for (let i = 0; i < compact.length; i += width) lines.push(compact.slice(i, i + width));
  return lines;
}

export function renderKeyMail(input: KeyMailInput): RenderedMail {
  const name = productName(input.product, input.version);
  const steps = applianceSteps(input.product, input.version);
  const keyLines = wrapKey(input.key);
  const expiry = formatExpiry(input.expiresAt, input.now);
  const lifetime = humanDuration(input.expiresAt - input.issuedAt);
  const ticket = input.ticket ? ` (ticket ${input.ticket.id})` : '';
  const subject = `Tether key for appliance ${input.serial}${ticket}`;

  const intro = `Here is the tether key for your appliance ${input.serial} (${name}). With it you let our support engineers reach the appliance through a connection that the appliance opens itself and that you can end at any time.`;
  const validity = [
    `It works only on appliance ${input.serial}, and only once.`,
    `It is valid for ${lifetime}, until ${expiry}. After that, ask us for a new one.`,
  ];
  const text = finishText([
    'Hello,',
    '',
    intro,
    '',
    'Your tether key (copy all of these lines):',
    '',
    ...keyLines,
    '',
    ...validity.map((v) => `- ${v}`),
    '',
    `How to enable the tether on your ${name}:`,
    ...steps.paste.map((s, i) => `${i + 1}. ${s}`),
    '',
    ...(steps.selfInitiate ? [steps.selfInitiate, ''] : []),
    steps.disable,
    '',
    'Regards,',
    'Your support team',
    '',
  ]);

  const html = layoutHtml(
    subject,
    [
      '<p>Hello,</p>',
      `<p>${escapeHtml(intro)}</p>`,
      '<p>Your tether key (copy all of these lines):</p>',
      `<pre style="font-family: Consolas, Menlo, monospace; font-size: 13px; background: #f4f4f4; padding: 12px; border: 1px solid #ddd;">${keyLines.map(escapeHtml).join('\n')}</pre>`,
      `<ul>${validity.map((v) => `<li>${escapeHtml(v)}</li>`).join('')}</ul>`,
      `<p>How to enable the tether on your ${escapeHtml(name)}:</p>`,
      `<ol>${steps.paste.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ol>`,
      steps.selfInitiate ? `<p>${escapeHtml(steps.selfInitiate)}</p>` : '',
      `<p>${escapeHtml(steps.disable)}</p>`,
      '<p>Regards,<br>Your support team</p>',
    ].join(''),
  );
  return { subject, text, html };
}
