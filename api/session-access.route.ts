// How an engineer reaches a session: its support password from custody (audited, actor = the
// operator) and the OpenSSH config block with one command per port. Both need what only a full
// installation has (signing key, relay endpoint and host key); without it they answer 503.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import type { KeyRelays } from '../shared/session/issue-key.js';
import { SUPPORT_USER, revealPassword } from '../shared/session/reveal-password.js';
import { DEFAULT_IDENTITY, DEFAULT_RELAY_ALIAS, portCommands, renderSshConfig } from '../shared/ssh-config.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import type { CredentialStore } from '../shared/store/credential.store.js';
import type { EngineerDirectory } from '../shared/store/engineer.store.js';
import type { SessionStore } from '../shared/store/session.store.js';
import { HttpError } from './http-error.js';
import { errorAnswers, guarded } from './operator-route.js';
import { sessionIdParams } from './sessions.route.js';

export interface SessionAccessRouteDeps {
  sessions: SessionStore;
  audit: AuditLog;
  engineers: EngineerDirectory;
  /** Password custody; absent without the signing key. */
  credentials: CredentialStore | undefined;
  /** The relay as keys name it, and its host key's public line; absent outside a full installation. */
  relay: (KeyRelays & { hostKeyLine: string }) | undefined;
  now: () => number;
}

const tags = ['sessions'];

export async function sessionAccessRoute(app: FastifyInstance, deps: SessionAccessRouteDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/v1/sessions/:id/credentials',
    guarded(
      'engineer',
      {
        tags,
        summary: 'Reveal the support password of a live session (audited credential.revealed, actor = the operator)',
        params: sessionIdParams,
        response: { 200: z.object({ serial: z.string(), user: z.literal(SUPPORT_USER), password: z.string() }), ...errorAnswers(404, 503) },
      },
      { action: 'reveal support passwords' },
    ),
    async (request, reply) => {
      if (!deps.credentials) throw new HttpError(503, 'unavailable', 'password custody is not available in this process: it needs the signing key');
      const revealed = await revealPassword(
        { sessions: deps.sessions, credentials: deps.credentials, audit: deps.audit, engineers: deps.engineers, now: deps.now },
        { sid: request.params.id, actor: request.operator.name },
      );
      reply.header('cache-control', 'no-store');
      return { serial: revealed.serial, user: SUPPORT_USER, password: revealed.password };
    },
  );

  r.get(
    '/v1/sessions/:id/ssh-config',
    guarded(
      'engineer',
      {
        tags,
        summary: 'The OpenSSH config block for a registered engineer, and the command for each port of the session',
        params: sessionIdParams,
        querystring: z.object({
          engineer: z.string().min(1).max(32).optional().describe('registered engineer name (default: the operator name)'),
          identity: z.string().min(1).max(256).regex(/^[^\s]+$/, 'a path without spaces').default(DEFAULT_IDENTITY),
          alias: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default(DEFAULT_RELAY_ALIAS),
        }),
        response: {
          200: z.object({ config: z.string(), commands: z.array(z.object({ port: z.number().int(), command: z.string() })) }),
          ...errorAnswers(404, 503),
        },
      },
      { action: 'get ssh-config' },
    ),
    async (request) => {
      if (!deps.relay) throw new HttpError(503, 'unavailable', 'the relay endpoint is not known to this process');
      const session = await deps.sessions.require(request.params.id);
      const { identity, alias } = request.query;
      const engineer = request.query.engineer ?? request.operator.name;
      if (!(await deps.engineers.get(engineer))) {
        throw new AppError('engineer_not_found', `no engineer named ${engineer}: register one (POST /v1/engineers) or pass ?engineer=NAME`);
      }
      const relay = deps.relay;
      return {
        config: renderSshConfig({ alias, host: relay.host, port: relay.port, engineer, identity, hostKeyLine: relay.hostKeyLine }),
        commands: portCommands(alias, session.serial, SUPPORT_USER, session.ports),
      };
    },
  );
}
