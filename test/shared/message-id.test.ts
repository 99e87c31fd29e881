// Deterministic Message-IDs (pure): the same identity gives the same id, ids stay valid RFC 5322
// msg-ids whatever the parts, and the domain comes from TETHER_MAIL_FROM or falls back.
import { describe, expect, it } from 'vitest';
import { FALLBACK_MAIL_DOMAIN, mailDomainOf, messageIdOf } from '../../shared/mail/message-id.js';

const MSG_ID = /^<[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>$/;

describe('messageIdOf', () => {
  it('is <session.template@domain>, with the variant as a third part when there is one', () => {
    expect(messageIdOf({ ref: 'Ab3_x-9QzK1mN0pL', template: 'key' }, 'vendor.example')).toBe('<Ab3_x-9QzK1mN0pL.key@vendor.example>');
    expect(messageIdOf({ ref: 'Ab3_x-9QzK1mN0pL', template: 'expiring_soon', variant: '1700000000000-3600000' }, 'vendor.example')).toBe(
      '<Ab3_x-9QzK1mN0pL.expiring_soon.1700000000000-3600000@vendor.example>',
    );
  });

  it('hashes parts that are not plain atoms, so untrusted ids from Redis cannot break the header', () => {
    const id = messageIdOf({ ref: 'evil>\r\nBcc: x@y', template: 'closed' }, 'vendor.example');
    expect(id).toMatch(MSG_ID);
    expect(id).toBe(messageIdOf({ ref: 'evil>\r\nBcc: x@y', template: 'closed' }, 'vendor.example'));
    expect(messageIdOf({ ref: 'sid-00000001', template: 'key' }, 'not a domain')).toBe(`<sid-00000001.key@${FALLBACK_MAIL_DOMAIN}>`);
  });
});

describe('mailDomainOf', () => {
  it('takes the domain of TETHER_MAIL_FROM and falls back to tether.invalid', () => {
    expect(mailDomainOf('Tether <tether@Vendor.Example>')).toBe('vendor.example');
    expect(mailDomainOf('tether@mail.vendor.example')).toBe('mail.vendor.example');
    expect(mailDomainOf('tether')).toBe('tether.invalid');
    expect(mailDomainOf('tether@[192.0.2.1]')).toBe('tether.invalid');
  });
});
