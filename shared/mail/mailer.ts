// The mailer: nodemailer over SMTP_URL, behind a small interface so workers get it injected.
// Errors come back coded: retryable unless the server refused the message for good (5xx).
import nodemailer from 'nodemailer';
import { AppError, describeError } from '../errors.js';

export interface OutgoingMail {
  to: readonly string[];
  subject: string;
  text: string;
  html: string;
  /** A stable Message-ID lets receiving systems spot a resend. */
  messageId?: string | undefined;
  /** Which template this is (`key`, `expiring_soon`, ...), for metrics only; never sent. */
  template?: string | undefined;
}

export interface SentMail {
  messageId: string;
  accepted: string[];
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SentMail>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl: string;
  /** TETHER_MAIL_FROM, e.g. `Tether <tether@vendor.example>`. */
  from: string;
  timeoutMs?: number;
  /** Pooled SMTP connections (default 5); 0 opens a connection per mail. */
  maxConnections?: number;
}

/** The bare address of a From value such as `Tether <tether@x.example>`. */
export function addressOf(from: string): string {
  const m = /<([^>]+)>/.exec(from);
  return (m ? m[1]! : from).trim();
}

export function createMailer(opts: MailerOptions): Mailer {
  const timeout = opts.timeoutMs ?? 15_000;
  const maxConnections = opts.maxConnections ?? 5;
  const common = { url: opts.smtpUrl, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout * 2 };
  // A pool keeps a few connections open, so a burst of key mails does not pay a handshake each.
  const transport = maxConnections > 0 ? nodemailer.createTransport({ ...common, pool: true, maxConnections }) : nodemailer.createTransport(common);
  return {
    async send(mail: OutgoingMail): Promise<SentMail> {
      try {
        const info = await transport.sendMail({
          from: opts.from,
          to: [...mail.to],
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
        });
        const accepted = ((info.accepted ?? []) as unknown[]).map((a) => (typeof a === 'string' ? a : String((a as { address?: string }).address)));
        if (accepted.length === 0) throw new AppError('internal', 'the SMTP server accepted no recipient', { retryable: false });
        return { messageId: info.messageId, accepted };
      } catch (err) {
        if (err instanceof AppError) throw err;
        const permanent = (err as { permanent?: boolean }).permanent === true;
        throw new AppError('internal', `mail not sent: ${describeError(err)}`, { retryable: !permanent, cause: err });
      }
    },
    close() {
      transport.close();
    },
  };
}
