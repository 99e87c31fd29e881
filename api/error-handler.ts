// The one place where errors become HTTP answers: `{ "error": { "code", "message" } }`. AppError
// codes map to statuses here and nowhere else; Fastify's own errors (body too large, unsupported
// media type, malformed request) are named; anything unexpected is a 500 without details.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, describeError, type ErrorCode } from '../shared/errors.js';
import { HttpError } from './http-error.js';

const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  usage: 400,
  ttl_too_long: 400,
  key_malformed: 400,
  key_bad_signature: 400,
  key_unknown_signer: 400,
  key_wrong_serial: 400,
  key_expired: 400,
  key_not_yet_valid: 400,
  key_already_used: 409,
  key_sealed_elsewhere: 400,
  session_not_found: 404,
  engineer_not_found: 404,
  engineer_invalid_key: 400,
  session_closed: 409,
  illegal_transition: 409,
  config_invalid: 503,
  redis_unreachable: 503,
  enrolment_token_invalid: 401,
  engineer_not_authorised: 403,
  appliance_not_enrolled: 404,
  credentials_unavailable: 404,
  operator_not_found: 404,
  operator_exists: 409,
  forbidden: 403,
  inbox_empty: 404,
  version_unsupported: 422,
};

export function statusOfAppError(err: AppError): number {
  return STATUS_OF_CODE[err.code] ?? 500;
}

interface ErrorBody {
  error: { code: string; message: string };
}

/** A route schema refused the request: name the part and field, one line (`querystring.limit: Too big …`). */
function validationMessage(err: FastifyError & { validation: { instancePath: string; message?: string | undefined }[] }): string {
  const first = err.validation[0]!;
  const field = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const where = [err.validationContext, field].filter(Boolean).join('.');
  return `${where || 'request'}: ${(first.message ?? 'invalid').split('\n')[0]}`;
}

function fastifyError(err: FastifyError): { status: number; body: ErrorBody } | null {
  const status = err.statusCode;
  if (hasZodFastifySchemaValidationErrors(err)) return { status: 400, body: { error: { code: 'invalid_body', message: validationMessage(err) } } };
  if (!status || status >= 500) return null;
  if (status === 413) return { status, body: { error: { code: 'body_too_large', message: 'request body is larger than the limit' } } };
  if (status === 415) return { status, body: { error: { code: 'unsupported_media_type', message: describeError(err) } } };
  return { status, body: { error: { code: 'invalid_body', message: describeError(err) } } };
}

/** Answers `err` as the contract says; also for plugins with their own error handler (Bull Board). */
export function replyWithError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof HttpError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
  if (err instanceof AppError) {
    const status = statusOfAppError(err);
    if (status >= 500) request.log.error({ code: err.code, err: describeError(err) }, 'request failed');
    return reply.code(status).send({ error: { code: err.code, message: status >= 500 && err.code === 'internal' ? 'internal error' : describeError(err) } });
  }
  const known = fastifyError(err as FastifyError);
  if (known) return reply.code(known.status).send(known.body);
  request.log.error({ err: describeError(err) }, 'unexpected error');
  return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(replyWithError);
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}
