// POST /v1/appliances/enroll: an appliance registers its identity with a single-use token the
// operator issued for its serial. The request is signed by the identity it registers (proof of
// possession); the token is taken only after the signature, window and nonce checks pass, and only
// by its own serial: a refused attempt leaves it valid.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../shared/errors.js';
import { APPLIANCE_PATHS, enrolRequestSchema } from '../shared/protocol.js';
import type { ApplianceStore, TokenRefusal } from '../shared/store/appliance.store.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import { checkSignedRequest, parseJsonBody, rawBodyOf } from './appliance-signature.js';

/** One line each: the audit's reason and the appliance's message. */
const REFUSAL: Record<TokenRefusal, { why: string; message: string }> = {
  unknown: { why: 'token unknown or already used', message: 'enrolment token is unknown or already used: ask support for a new one' },
  expired: { why: 'token expired', message: 'enrolment token has expired: ask support for a new one' },
  wrong_serial: {
    why: 'token issued for another serial (left valid)',
    message: 'enrolment token was issued for another serial: check the serial, or ask support for a token for this one',
  },
};

export interface EnrollRouteDeps {
  appliances: ApplianceStore;
  audit: AuditLog;
  now: () => number;
}

export async function applianceEnrollRoute(app: FastifyInstance, deps: EnrollRouteDeps): Promise<void> {
  app.post(APPLIANCE_PATHS.enroll, async (request, reply) => {
    const body = parseJsonBody(enrolRequestSchema, rawBodyOf(request));
    await checkSignedRequest(request, Buffer.from(body.signPub, 'base64url'), body.serial, deps);
    const taken = await deps.appliances.consumeToken(body.token, body.serial, deps.now());
    if (!taken.ok) {
      await deps.audit.append('appliance.enrol_refused', { serial: body.serial, actor: `appliance:${body.serial}`, why: REFUSAL[taken.reason].why }, deps.now());
      throw new AppError('enrolment_token_invalid', REFUSAL[taken.reason].message);
    }
    const now = deps.now();
    const previous = await deps.appliances.get(body.serial);
    const record = await deps.appliances.enrol(
      { serial: body.serial, product: body.product, version: body.version, signPub: body.signPub, sealPub: body.sealPub, enrolledAt: now },
      now,
    );
    await deps.audit.append(
      'appliance.enrolled',
      { serial: record.serial, product: record.product, version: record.version, actor: `appliance:${record.serial}`, replaced: previous ? 'yes' : 'no' },
      now,
    );
    request.log.info({ serial: record.serial, product: record.product, version: record.version }, 'appliance enrolled');
    return reply.code(201).send({ serial: record.serial, product: record.product, version: record.version, enrolledAt: new Date(now).toISOString() });
  });
}
