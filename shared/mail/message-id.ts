// Deterministic identities for every mail we send: `<{session}.{template}[.{variant}]@{domain}>`, so
// a mail sent again after a crash carries the same Message-ID and mail systems can collapse it.
// The same identity names the Redis record of the send. Pure: no I/O.
import { createHash } from 'node:crypto';
import { addressOf } from './mailer.js';

/** The domain used when TETHER_MAIL_FROM gives none we could put in a Message-ID (RFC 2606). */
export const FALLBACK_MAIL_DOMAIN = 'tether.invalid';

export const MAIL_TEMPLATES = ['key', 'key_sent', 'connected', 'expiring_soon', 'closed', 'job_failed'] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

export interface MailIdentity {
  /** The session the mail is about; for a mail about no session, a stable id of what it is about. */
  ref: string;
  template: MailTemplate;
  /** Tells apart mails of one template about one ref (an expiry warning per expiry and offset). */
  variant?: string | undefined;
}

// An RFC 5322 atom without dots; anything else (ids come from Redis and are untrusted) is hashed.
const ATOM = /^[A-Za-z0-9_-]{1,64}$/;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

function atom(part: string): string {
  return ATOM.test(part) ? part : `h${createHash('sha256').update(part).digest('hex').slice(0, 32)}`;
}

/** `{ref}.{template}[.{variant}]`: the Message-ID's left part, and the key of the send record. */
export function mailIdentityKey(id: MailIdentity): string {
  return [atom(id.ref), id.template, ...(id.variant === undefined ? [] : [atom(id.variant)])].join('.');
}

export function messageIdOf(id: MailIdentity, domain: string): string {
  return `<${mailIdentityKey(id)}@${DOMAIN.test(domain) ? domain : FALLBACK_MAIL_DOMAIN}>`;
}

/** The domain of TETHER_MAIL_FROM (`Tether <tether@vendor.example>` → `vendor.example`), else the fallback. */
export function mailDomainOf(from: string): string {
  const address = addressOf(from);
  const at = address.lastIndexOf('@');
  const domain = at < 0 ? '' : address.slice(at + 1).toLowerCase();
  return DOMAIN.test(domain) ? domain : FALLBACK_MAIL_DOMAIN;
}
