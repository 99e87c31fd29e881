// POST /v1/appliances/:serial/tether: one-click. The enrolled appliance asks, signed; versions below
// SMA 10.2 / SDA 6.1 are refused with the key flow as the way instead; otherwise a ticket is reused
// or opened with the description and a sealed key comes back in the answer (201).
import type { FastifyInstance } from 'fastify';
import { AppError } from '../shared/errors.js';
import { APPLIANCE_PATHS, oneClickRefusal, supportsOneClick, tetherRequestSchema } from '../shared/protocol.js';
import { authenticateAppliance, parseJsonBody, rawBodyOf } from './appliance-signature.js';
import type { OneClickDeps } from './appliance-oneclick.js';
import { oneClickTether } from './appliance-oneclick.js';
import { HttpError } from './http-error.js';

export interface TetherRouteDeps extends Omit<OneClickDeps, 'signingKey' | 'relay' | 'credentials'> {
  /** What minting needs; absent (an API without the signing key or relay endpoint): one-click answers 503. */
  mint: Pick<OneClickDeps, 'signingKey' | 'relay' | 'credentials'> | undefined;
}

export async function applianceTetherRoute(app: FastifyInstance, deps: TetherRouteDeps): Promise<void> {
  app.post(APPLIANCE_PATHS.tether(':serial'), async (request, reply) => {
    const appliance = await authenticateAppliance(request, deps);
    const body = parseJsonBody(tetherRequestSchema, rawBodyOf(request));
    if (!supportsOneClick(appliance.product, appliance.version)) {
      await deps.audit.append('appliance.oneclick_refused', { serial: appliance.serial, actor: `appliance:${appliance.serial}`, version: appliance.version }, deps.now());
      throw new AppError('version_unsupported', oneClickRefusal(appliance.product, appliance.version));
    }
    if (!deps.mint) throw new HttpError(503, 'unavailable', 'one-click is not available on this server: it has no signing key or relay endpoint');
    const answer = await oneClickTether({ appliance, description: body.description, passwordMode: body.passwordMode }, { ...deps, ...deps.mint });
    request.log.info({ serial: appliance.serial, sid: answer.session.id, ticket: answer.ticket, ticketCreated: answer.ticketCreated }, 'one-click tether issued');
    return reply.code(201).send(answer);
  });
}
