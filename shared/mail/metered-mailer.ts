// A Mailer that counts what it hands to SMTP in tether_mail_total{template,result}: `sent`, `failed`
// (retryable: the job tries again) or `refused` (the server said no for good). Sends nothing itself.
import { isAppError } from '../errors.js';
import type { MailMeter } from '../metrics.js';
import type { Mailer } from './mailer.js';

export function meteredMailer(inner: Mailer, meter: MailMeter): Mailer {
  return {
    async send(mail) {
      const template = mail.template ?? 'other';
      try {
        const sent = await inner.send(mail);
        meter.mail(template, 'sent');
        return sent;
      } catch (err) {
        meter.mail(template, isAppError(err) && !err.retryable ? 'refused' : 'failed');
        throw err;
      }
    },
    close: () => inner.close(),
  };
}
