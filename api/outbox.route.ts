// The captured outbox (dev only): with the embedded SMTP capture (SMTP_URL unset, `serve
// --smtp-capture`), every mail is a file under TETHER_HOME/outbox; admins list and read them here.
// Mails hold usable keys, hence admin only. Elsewhere both routes answer 404.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseMail } from '../shared/mail/mail-parse.js';
import { HttpError } from './http-error.js';
import { errorAnswers, guarded } from './operator-route.js';
import { nextCursorSchema, pageQuery } from './operator-views.js';

export interface OutboxRouteDeps {
  /** The capture's outbox folder; undefined when mail goes to a real SMTP server. */
  outboxDir: string | undefined;
}

const tags = ['outbox (dev)'];
const action = { action: 'read the captured outbox' };
const FILE = /^[A-Za-z0-9_-]{1,100}\.eml$/;
const mailSummarySchema = z.object({ file: z.string(), subject: z.string(), from: z.string(), to: z.string(), date: z.string().nullable(), size: z.number().int() });

function dirOrRefuse(dir: string | undefined): string {
  if (!dir) throw new HttpError(404, 'not_found', 'no captured outbox: mail goes to SMTP_URL (the outbox exists only with the embedded SMTP capture)');
  return dir;
}

export async function outboxRoute(app: FastifyInstance, deps: OutboxRouteDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/outbox',
    guarded(
      'admin',
      {
        tags,
        summary: 'Mails the embedded SMTP capture received, newest first',
        querystring: z.object(pageQuery),
        response: { 200: z.object({ mails: z.array(mailSummarySchema), nextCursor: nextCursorSchema }), ...errorAnswers(404) },
      },
      action,
    ),
    async (request) => {
      const dir = dirOrRefuse(deps.outboxDir);
      const { limit, cursor } = request.query;
      // File names start with the capture time, so name order is time order.
      const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => FILE.test(f)).sort().reverse();
      const rest = cursor ? files.filter((f) => f < cursor) : files;
      const page = rest.slice(0, limit);
      const mails = await Promise.all(
        page.map(async (file) => {
          const raw = await readFile(join(dir, file));
          const m = parseMail(raw);
          return { file, subject: m.subject, from: m.from, to: m.to, date: m.headers.get('date') ?? null, size: (await stat(join(dir, file))).size };
        }),
      );
      return { mails, nextCursor: rest.length > limit ? page[page.length - 1]! : null };
    },
  );

  r.get(
    '/v1/outbox/:file',
    guarded(
      'admin',
      {
        tags,
        summary: 'One captured mail: headers and decoded text and HTML parts',
        params: z.object({ file: z.string().regex(FILE, 'a file name from GET /v1/outbox') }),
        response: {
          200: z.object({ file: z.string(), subject: z.string(), from: z.string(), to: z.string(), date: z.string().nullable(), text: z.string().nullable(), html: z.string().nullable() }),
          ...errorAnswers(404),
        },
      },
      action,
    ),
    async (request, reply) => {
      const dir = dirOrRefuse(deps.outboxDir);
      const { file } = request.params;
      const raw = await readFile(join(dir, file)).catch(() => {
        throw new HttpError(404, 'not_found', `no mail ${file} in the outbox`);
      });
      const m = parseMail(raw);
      reply.header('cache-control', 'no-store');
      return { file, subject: m.subject, from: m.from, to: m.to, date: m.headers.get('date') ?? null, text: m.text ?? null, html: m.html ?? null };
    },
  );
}
