// A current agent asks one-click for an escrowed password; a server older than that refuses the mode
// (400 on the body, before it opens a ticket or mints anything), and the agent asks again for the
// generated password sealed in the key. Any other refusal is not retried.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestTether } from '../../appliance/api-client.js';
import type { ApplianceIdentity } from '../../appliance/identity.js';
import { generateIdentityKeys } from '../../shared/key/sealing.js';

const asked: { passwordMode?: string; description?: string }[] = [];
let server: Server;
let identity: ApplianceIdentity;

function readJson(req: IncomingMessage): Promise<{ passwordMode?: string; description?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { passwordMode?: string }));
  });
}

beforeAll(async () => {
  // What an API before escrowed one-click passwords answers (its zod enum, its 400 shape).
  server = createServer(async (req, res) => {
    const body = await readJson(req);
    asked.push(body);
    const send = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    if (body.description === 'refuse me') return send(400, { error: { code: 'invalid_body', message: 'description: too short' } });
    if (body.passwordMode !== undefined && !['generated', 'customer'].includes(body.passwordMode)) {
      return send(400, { error: { code: 'invalid_body', message: 'passwordMode: Invalid option: expected one of "generated"|"customer"' } });
    }
    send(201, { key: 'KEY-TEXT', session: { id: 'sid-1', expiresAt: new Date(Date.now() + 3_600_000).toISOString() }, ticket: { system: 'generic', id: 't-1' }, ticketCreated: true });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  identity = { serial: 'K1000-OLDAPI', api, ...generateIdentityKeys(), enrolledAt: new Date().toISOString(), reportedVersion: '10.2' };
});
afterAll(() => new Promise((r) => server.close(r)));

describe('one-click against a server older than escrowed passwords', () => {
  it('asks again with the generated password when the escrow mode is refused, and gets the key', async () => {
    asked.length = 0;
    const answer = await requestTether(identity, { description: 'inventory page is blank', passwordMode: 'escrow' }, 2_000);
    expect(answer.key).toBe('KEY-TEXT');
    expect(asked.map((a) => a.passwordMode)).toEqual(['escrow', 'generated']);
  });

  it('does not retry any other refusal', async () => {
    asked.length = 0;
    await expect(requestTether(identity, { description: 'refuse me', passwordMode: 'escrow' }, 2_000)).rejects.toMatchObject({ code: 'api_refused', message: /description: too short/ });
    expect(asked).toHaveLength(1);
  });
});
