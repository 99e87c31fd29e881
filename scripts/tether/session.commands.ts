// `tether sessions`, `tether revoke`, `tether extend`, `tether audit`: reading and ending sessions.
import type { Command } from 'commander';
import { parseDuration } from '../../shared/duration.js';
import { AppError } from '../../shared/errors.js';
import { sessionView, type SessionRecord } from '../../shared/session/session.schema.js';
import { actorFor, withActorOption, type ActorOption } from './actor.js';
import type { AuditEntry } from '../../shared/store/audit.store.js';
import type { OperatorContext } from './operator-context.js';
import { printJson, type Run } from './output.js';
import { extendSession } from '../../shared/session/extend-session.js';

function auditJson(e: AuditEntry) {
  return { id: e.id, type: e.type, at: new Date(e.at).toISOString(), ...e.fields };
}

/** Times in one format (ISO 8601, UTC), epoch-ms fields such as expiresAt included. */
function auditLine(e: AuditEntry): string {
  const rest = Object.entries(e.fields)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${/At$/.test(k) && /^\d{12,14}$/.test(v) ? new Date(Number(v)).toISOString() : v}`)
    .join(' ');
  return `${new Date(e.at).toISOString()}\t${e.type}\t${rest}\n`;
}

/** `tether audit` shows at most this many entries unless `--limit` says otherwise. */
export const AUDIT_LIMIT = 1_000;
const AUDIT_LIMIT_MAX = 100_000;
/** A session's entries are read from a day before its issue: stream ids use Redis's clock, not ours. */
const SESSION_SLACK_MS = 86_400_000;

function auditLimitOf(text: string | undefined): number {
  if (text === undefined) return AUDIT_LIMIT;
  const n = /^\d{1,6}$/.test(text) ? Number(text) : 0;
  if (n < 1 || n > AUDIT_LIMIT_MAX) throw new AppError('usage', `invalid --limit "${text}": a whole number from 1 to ${AUDIT_LIMIT_MAX}`);
  return n;
}

/** The later of two stream entry ids ("<ms>-<seq>"). */
function laterId(a: string, b: string): string {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am > bm || (am === bm && as >= bs) ? a : b;
}

function line(s: SessionRecord): string {
  const state = s.reason ? `${s.state}(${s.reason})` : s.state;
  const ticket = s.ticket ? `${s.ticket.system}:${s.ticket.id}` : '-';
  return [s.id, s.serial, s.product, state, new Date(s.expiresAt).toISOString(), s.ports.join(','), ticket].join('\t');
}

async function sessionFor(ctx: OperatorContext, opts: { serial?: string; session?: string }): Promise<SessionRecord> {
  if (opts.session) return ctx.sessions.require(opts.session);
  if (opts.serial) {
    const s = await ctx.sessions.findLiveBySerial(opts.serial);
    if (!s) throw new AppError('session_not_found', `no live session for serial ${opts.serial}`);
    return s;
  }
  throw new AppError('usage', 'give --serial SN or --session ID');
}

export function registerSessionCommands(program: Command, run: Run): void {
  program
    .command('sessions')
    .description('list sessions, newest first')
    .option('--all', 'include closed sessions')
    .option('--json', 'machine-readable output')
    .action((opts: { all?: boolean; json?: boolean }) =>
      run(async (ctx) => {
        const all = (await ctx.sessions.list()).filter((s) => opts.all || s.state !== 'CLOSED');
        if (opts.json) return printJson(all.map(sessionView));
        if (all.length === 0) return void process.stdout.write('no sessions\n');
        process.stdout.write('ID\tSERIAL\tPRODUCT\tSTATE\tEXPIRES\tPORTS\tTICKET\n');
        for (const s of all) process.stdout.write(`${line(s)}\n`);
      }),
    );

  withActorOption(
    program
      .command('revoke')
      .description('end a tether now: the relay drops the appliance and every engineer channel')
      .option('--serial <sn>', 'the live session of this serial')
      .option('--session <id>', 'a session id')
      .option('--json', 'machine-readable output: the closed session'),
  ).action((opts: ActorOption & { serial?: string; session?: string; json?: boolean }) =>
      run(async (ctx) => {
        const actor = await actorFor(ctx, opts.as, 'admin', 'revoke sessions');
        const s = await sessionFor(ctx, opts);
        await ctx.sessions.close(s.id, 'revoked', actor, ctx.now());
        if (opts.json) return printJson(sessionView(await ctx.sessions.require(s.id)));
        process.stdout.write(`session ${s.id} (${s.serial}) revoked\n`);
      }),
    );

  withActorOption(
    program
      .command('extend')
      .description('move the expiry of a live session (at most 12 weeks after issue)')
      .requiredOption('--session <id>', 'session id')
      .requiredOption('--ttl <duration>', 'new life from now: 2h, 7d, …')
      .option('--json', 'machine-readable output: the extended session'),
  ).action((opts: ActorOption & { session: string; ttl: string; json?: boolean }) =>
      run(async (ctx) => {
        const actor = await actorFor(ctx, opts.as, 'admin', 'extend sessions');
        const extended = await extendSession(ctx.sessions, { id: opts.session, ttlMs: parseDuration(opts.ttl), actor, now: ctx.now() });
        if (opts.json) return printJson(sessionView(extended));
        process.stdout.write(`session ${extended.id} now expires at ${new Date(extended.expiresAt).toISOString()}\n`);
      }),
    );

  program
    .command('audit')
    .description(`the audit trail, oldest first: the newest ${AUDIT_LIMIT} entries (or --limit), or those of one session`)
    .option('--session <id>', 'only entries of this session (read from a day before its issue on)')
    .option('--limit <n>', `show at most the newest n entries (default ${AUDIT_LIMIT})`)
    .option('--json', 'machine-readable output (with --follow: one JSON object per line)')
    .option('--follow', 'keep printing new entries as they are written (Ctrl-C to stop)')
    .action((opts: { session?: string; limit?: string; json?: boolean; follow?: boolean }) =>
      run(async (ctx) => {
        const limit = auditLimitOf(opts.limit);
        const session = opts.session ? await ctx.sessions.get(opts.session) : undefined;
        if (opts.session && !session) throw new AppError('session_not_found', `no session ${opts.session}`);
        const mine = (e: AuditEntry) => !session || e.fields.sid === session.id;
        // The end of the log before reading: --follow goes on from there (or from what was shown, if later).
        const end = await ctx.audit.lastId();
        // The stream is never trimmed: read the newest entries (or the session's own), never the oldest.
        let found: AuditEntry[];
        let older = false;
        // Every entry from its issue on, however busy the log (no scan cap: an operator asked for all of it).
        if (session) found = await ctx.audit.ofSession(session.id, session.issuedAt - SESSION_SLACK_MS, Number.POSITIVE_INFINITY);
        else {
          const page = await ctx.audit.pageNewestFirst({ limit, scanLimit: limit });
          found = page.entries.reverse();
          older = page.next !== null;
        }
        const shown = found.slice(-limit);
        if (older || found.length > shown.length) {
          process.stderr.write(`tether: showing the newest ${limit} entries (--limit for more)\n`);
        }
        if (opts.json && !opts.follow) return printJson(shown.map(auditJson));
        for (const e of shown) process.stdout.write(opts.json ? `${JSON.stringify(auditJson(e))}\n` : auditLine(e));
        if (!opts.follow) return;
        let after = laterId(end ?? '0-0', shown.at(-1)?.id ?? '0-0');
        for (;;) {
          const fresh = await ctx.audit.follow(after, 5_000);
          for (const e of fresh) {
            after = e.id;
            if (mine(e)) process.stdout.write(opts.json ? `${JSON.stringify(auditJson(e))}\n` : auditLine(e));
          }
        }
      }),
    );
}
