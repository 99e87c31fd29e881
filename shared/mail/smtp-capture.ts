// The embedded SMTP capture (smtp-server on loopback) used when SMTP_URL is unset: every message
// it accepts is stored as an RFC 5322 file `<outbox>/<time>-<id>.eml` (written whole, then renamed
// into place, 0600 in a 0700 outbox: mails hold usable keys) before the client hears "250", and
// listeners are told of each stored mail.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { makeOwnerOnly, writePrivateFile } from '../private-files.js';

export interface CapturedMail {
  id: string;
  file: string;
  receivedAt: number;
  /** Envelope sender and recipients (MAIL FROM / RCPT TO). */
  from: string | undefined;
  to: string[];
  raw: Buffer;
}

export interface SmtpCaptureOptions {
  /** Usually `TETHER_HOME/outbox`. */
  outboxDir: string;
  host?: string;
  /** 0 picks a free port once; a restart after close() reuses the port it got. */
  port?: number;
  maxBytes?: number;
  now?: () => number;
}

export type MailListener = (mail: CapturedMail) => void;

export function outboxDir(home: string): string {
  return join(home, 'outbox');
}

function fileTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '');
}

export class SmtpCapture {
  private server: SMTPServer | undefined;
  private readonly listeners = new Set<MailListener>();
  private readonly host: string;
  private port: number;
  private readonly now: () => number;

  constructor(private readonly opts: SmtpCaptureOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.now = opts.now ?? Date.now;
  }

  /** `smtp://host:port`, valid once started. */
  get url(): string {
    return `smtp://${this.host}:${this.port}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Calls `listener` for every stored mail; returns the function that stops it. */
  onMail(listener: MailListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<{ host: string; port: number; url: string }> {
    if (this.server) return { host: this.host, port: this.port, url: this.url };
    // Also narrows an outbox and mails an older version left world-readable.
    makeOwnerOnly(this.opts.outboxDir);
    const server = new SMTPServer({
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      logger: false,
      size: this.opts.maxBytes ?? 25 * 1024 * 1024,
      closeTimeout: 1_000,
      banner: 'tether SMTP capture',
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', (err) => callback(err));
        stream.on('end', () => {
          if (stream.sizeExceeded) {
            const err = Object.assign(new Error('message too large'), { responseCode: 552 });
            return callback(err);
          }
          try {
            const mail = this.store(Buffer.concat(chunks), session.envelope);
            callback(null, `stored as ${mail.id}`);
            for (const l of this.listeners) l(mail);
          } catch (err) {
            callback(Object.assign(new Error('could not store the message'), { responseCode: 451, cause: err }));
          }
        });
      },
    });
    server.on('error', () => undefined); // per-connection errors (client resets) are not ours to act on
    await new Promise<void>((resolve, reject) => {
      const net = server.listen(this.port, this.host, () => resolve());
      net.once('error', reject);
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
    return { host: this.host, port: this.port, url: this.url };
  }

  private store(raw: Buffer, envelope: { mailFrom: false | { address: string }; rcptTo: { address: string }[] }): CapturedMail {
    const receivedAt = this.now();
    const id = randomBytes(6).toString('hex');
    const file = join(this.opts.outboxDir, `${fileTime(receivedAt)}-${id}.eml`);
    writePrivateFile(file, raw);
    return { id, file, receivedAt, from: envelope.mailFrom ? envelope.mailFrom.address : undefined, to: envelope.rcptTo.map((r) => r.address), raw };
  }

  /** Stops listening; idempotent. start() again listens on the same port. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function createSmtpCapture(opts: SmtpCaptureOptions): SmtpCapture {
  return new SmtpCapture(opts);
}
