// The agent's client for the orchestrator's appliance API: every call signed with the identity's
// Ed25519 key (shared/protocol.ts), answers parsed against the shared schemas, refusals turned into
// one-line AppErrors. A changed appliance version is reported before the next call.
import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { AppError, describeError, isAppError, type ErrorCode } from '../shared/errors.js';
import {
  APPLIANCE_PATHS,
  enrolResponseSchema,
  errorBodySchema,
  inboxResponseSchema,
  signRequest,
  tetherResponseSchema,
  type EnrolRequest,
  type InboxEntryView,
  type TetherRequest,
  type TetherResponse,
} from '../shared/protocol.js';
import type { AgentPaths } from './agent-home.js';
import { writeIdentity, type ApplianceIdentity } from './identity.js';

export const API_TIMEOUT_MS = 15_000;

/** Server codes the agent explains as they are; everything else is an `api_refused`. */
const PASSED_THROUGH: readonly ErrorCode[] = ['version_unsupported', 'enrolment_token_invalid'];
/** How a server that knows only `generated` and `customer` refuses `passwordMode: "escrow"`. */
const OLD_SERVER_REFUSAL = /\(400\): passwordMode: /;

export interface CallOptions {
  api: string;
  signKey: KeyObject;
  now?: () => number;
  timeoutMs?: number;
}

/** `https://host/base` + `/v1/...`: an API behind a path prefix keeps it. */
function urlFor(api: string, path: string): URL {
  return new URL(`${api.replace(/\/+$/, '')}${path}`);
}

async function call<S extends z.ZodType>(opts: CallOptions, method: 'GET' | 'POST' | 'PUT', path: string, body: unknown, schema: S): Promise<z.infer<S>> {
  const url = urlFor(opts.api, path);
  const text = body === undefined ? '' : JSON.stringify(body);
  // Signed over the path as it goes on the wire, base prefix included.
  const signed = signRequest(opts.signKey, { method, path: `${url.pathname}${url.search}`, body: text, now: (opts.now ?? Date.now)() });
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { ...signed, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: text }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? API_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new AppError('api_unreachable', `cannot reach the tether API at ${opts.api}: ${describeError(cause)}`, { retryable: true, cause });
  }
  const answer = await res.text();
  let json: unknown;
  try {
    json = answer ? JSON.parse(answer) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = errorBodySchema.safeParse(json);
    const message = err.success ? err.data.error.message : `HTTP ${res.status}`;
    const code = err.success ? (err.data.error.code as ErrorCode) : undefined;
    if (code && PASSED_THROUGH.includes(code)) throw new AppError(code, message);
    throw new AppError('api_refused', `the tether API refused the request (${res.status}): ${message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new AppError('api_refused', `the tether API gave an answer this agent does not understand (${method} ${path})`);
  return parsed.data;
}

export function enrol(api: string, signKey: KeyObject, body: EnrolRequest, now?: () => number): Promise<z.infer<typeof enrolResponseSchema>> {
  return call({ api, signKey, ...(now ? { now } : {}) }, 'POST', APPLIANCE_PATHS.enroll, body, enrolResponseSchema);
}

function as(identity: ApplianceIdentity): CallOptions {
  return { api: identity.api, signKey: identity.signKey };
}

/** Reports `version` when the API knows another one; returns the identity as now recorded. */
export async function reportVersionIfChanged(paths: AgentPaths, identity: ApplianceIdentity, version: string, timeoutMs?: number): Promise<ApplianceIdentity> {
  if (identity.reportedVersion === version) return identity;
  await call({ ...as(identity), ...(timeoutMs ? { timeoutMs } : {}) }, 'PUT', APPLIANCE_PATHS.version(identity.serial), { version }, enrolResponseSchema.pick({ version: true }));
  const updated = { ...identity, reportedVersion: version };
  writeIdentity(paths, updated);
  return updated;
}

export async function requestTether(identity: ApplianceIdentity, body: TetherRequest, timeoutMs?: number): Promise<TetherResponse> {
  const ask = (b: TetherRequest) => call({ ...as(identity), ...(timeoutMs ? { timeoutMs } : {}) }, 'POST', APPLIANCE_PATHS.tether(identity.serial), b, tetherResponseSchema);
  try {
    return await ask(body);
  } catch (err) {
    // A server older than escrowed one-click passwords refuses the mode before it does anything (its
    // body check comes first): it then generates the password itself and seals it in the key, as before.
    if (body.passwordMode === 'escrow' && isAppError(err, 'api_refused') && OLD_SERVER_REFUSAL.test(err.message)) return ask({ ...body, passwordMode: 'generated' });
    throw err;
  }
}

export async function fetchInbox(identity: ApplianceIdentity, timeoutMs?: number): Promise<InboxEntryView[]> {
  const opts = { ...as(identity), ...(timeoutMs ? { timeoutMs } : {}) };
  return (await call(opts, 'GET', APPLIANCE_PATHS.inbox(identity.serial), undefined, inboxResponseSchema)).keys;
}
