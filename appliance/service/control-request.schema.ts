// The service's parser for control requests: everything a client sends is untrusted (any local
// process of the agent's user can connect), so every frame is checked against this schema first.
import { z } from 'zod';
import { PROTOCOL_VERSION, type ControlRequest } from './control-protocol.js';

const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const timeoutMs = z.number().int().min(1).max(2_147_483_647).optional();

const source = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('key'), key: z.string().max(32_768) }),
  // Length is judged by the service with a one-line reason, so the limit here is only the frame's.
  z.object({ kind: z.literal('description'), description: z.string() }),
  z.object({ kind: z.literal('pending') }),
]);

export const controlRequestSchema = z.discriminatedUnion('op', [
  z.object({ v: z.literal(PROTOCOL_VERSION), id, op: z.literal('status'), inbox: z.boolean().optional() }).strict(),
  z.object({ v: z.literal(PROTOCOL_VERSION), id, op: z.literal('enable'), source, password: z.string().max(1_024).optional(), timeoutMs }).strict(),
  z.object({ v: z.literal(PROTOCOL_VERSION), id, op: z.literal('disable') }).strict(),
  z.object({ v: z.literal(PROTOCOL_VERSION), id, op: z.literal('reset'), timeoutMs }).strict(),
  z.object({ v: z.literal(PROTOCOL_VERSION), id, op: z.literal('log'), lines: z.number().int().min(1).max(1_000).optional() }).strict(),
]);

/** The request, or a one-line reason and the id to answer with (when one could be read). */
export function parseControlRequest(line: string): { ok: true; request: ControlRequest } | { ok: false; id: number | null; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, id: null, reason: 'invalid request: not JSON (one JSON object per line)' };
  }
  const rawId = (raw as { id?: unknown } | null)?.id;
  const knownId = typeof rawId === 'number' && id.safeParse(rawId).success ? rawId : null;
  const v = (raw as { v?: unknown } | null)?.v;
  if (v !== PROTOCOL_VERSION) return { ok: false, id: knownId, reason: `unsupported protocol version ${JSON.stringify(v ?? null)}: this service speaks ${PROTOCOL_VERSION}` };
  const parsed = controlRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return { ok: false, id: knownId, reason: `invalid request: ${where}${issue?.message ?? 'not understood'}` };
  }
  return { ok: true, request: parsed.data as ControlRequest };
}
