// The embedded SMTP capture: one .eml per accepted message, listeners told, restart on the same port.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMailer } from '../../shared/mail/mailer.js';
import { parseMail } from '../../shared/mail/mail-parse.js';
import { createSmtpCapture, type CapturedMail } from '../../shared/mail/smtp-capture.js';

const home = mkdtempSync(join(tmpdir(), 'tether-capture-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('embedded SMTP capture', () => {
  it('stores each accepted message as one RFC 5322 file <time>-<id>.eml and tells listeners', async () => {
    const outbox = join(home, 'outbox');
    const capture = createSmtpCapture({ outboxDir: outbox });
    const { url, port } = await capture.start();
    expect(port).toBeGreaterThan(0);
    const seen: CapturedMail[] = [];
    capture.onMail((m) => seen.push(m));
    const mailer = createMailer({ smtpUrl: url, from: 'Tether <tether@vendor.example>', maxConnections: 0 });
    try {
      await mailer.send({ to: ['a@customer.example', 'b@customer.example'], subject: 'Grüße › tether', text: 'hello\n', html: '<p>hello</p>' });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.to).toEqual(['a@customer.example', 'b@customer.example']);
      expect(seen[0]!.from).toBe('tether@vendor.example');
      const files = readdirSync(outbox);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{12}\.eml$/);
      expect(join(outbox, files[0]!)).toBe(seen[0]!.file);
      const raw = readFileSync(seen[0]!.file);
      expect(raw.toString()).toMatch(/^[A-Za-z-]+: /); // starts with a header line
      const parsed = parseMail(raw);
      expect(parsed.subject).toBe('Grüße › tether');
      expect(parsed.text).toBe('hello\n');
      expect(parsed.html).toBe('<p>hello</p>');

      // Down: mails are refused (the sender retries); up again on the same port.
      await capture.close();
      await capture.close();
      await expect(mailer.send({ to: ['a@customer.example'], subject: 's', text: 't', html: 'h' })).rejects.toMatchObject({ code: 'internal', retryable: true });
      expect((await capture.start()).port).toBe(port);
      await mailer.send({ to: ['a@customer.example'], subject: 'again', text: 't', html: 'h' });
      expect(seen.map((m) => parseMail(m.raw).subject)).toEqual(['Grüße › tether', 'again']);
      expect(readdirSync(outbox)).toHaveLength(2);
    } finally {
      mailer.close();
      await capture.close();
    }
  });
});
