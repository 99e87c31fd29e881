// Per-session grants through the operator API: viewers read them, only admins change them, every
// change names the operator in the audit, and a refusal changes nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseEngineerKey } from '../../shared/store/engineer.store.js';
import { RedisEngineerDirectory } from '../../shared/store/redis-engineer.store.js';
import { ed25519Pair } from '../helpers/ed25519-pair.js';
import { useApiHarness } from './helpers/api-fixture.js';

const h = useApiHarness();
let admin: string, viewer: string;

beforeAll(async () => {
  admin = await h.addOperator('ada', 'admin');
  viewer = await h.addOperator('vic', 'viewer');
  const pair = ed25519Pair();
  await new RedisEngineerDirectory(h.redis, h.prefix).addKey('alice', parseEngineerKey(pair.public), 'test', Date.now());
});

describe('session grants over the API', () => {
  it('an admin grants and withdraws; a viewer reads but may not change; all audited with the operator', async () => {
    const { session } = await h.issue('SN-GRANT-1');
    const url = `/v1/sessions/${session.id}/grants`;
    const denied = await h.call('POST', url, { token: viewer }, { engineer: 'alice' });
    expect(denied.status).toBe(403);
    expect((await h.call('GET', url, { token: viewer })).json).toMatchObject({ grants: [] });

    const granted = await h.call('POST', url, { token: admin }, { engineer: 'alice' });
    expect(granted.status).toBe(200);
    expect(granted.json).toMatchObject({ grants: [{ engineer: 'alice', by: 'ada' }] });
    expect((await h.auditOf('session.granted')).map((e) => e.fields)).toEqual([expect.objectContaining({ sid: session.id, engineer: 'alice', actor: 'ada' })]);

    const unknown = await h.call('POST', url, { token: admin }, { engineer: 'ghost' });
    expect(unknown.status).toBe(404);

    const withdrawn = await h.call('DELETE', `${url}/alice`, { token: admin });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.json).toMatchObject({ grants: [] });
    expect((await h.auditOf('session.grant_revoked')).map((e) => e.fields.actor)).toEqual(['ada']);
    expect((await h.call('DELETE', `${url}/alice`, { token: admin })).status).toBe(404);
  });
});
