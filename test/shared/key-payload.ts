// A valid version-1 key payload for the key tests, to vary one field at a time with `over`.
import type { TetherKeyPayload } from '../../shared/key/tether-key.schema.js';

export function keyPayload(kid: string, iat: number, over: Partial<TetherKeyPayload> = {}): TetherKeyPayload {
  return {
    v: 1,
    kid,
    jti: 'jti-0123456789',
    sid: 'sid-0123456789',
    serial: 'K1000-5F3A9C',
    product: 'sma',
    iat,
    exp: iat + 3600,
    relay: { host: 'relay.example', port: 2222, fp: 'SHA256:abc' },
    ports: [22, 80, 443, 3306],
    cred: Buffer.alloc(32, 7).toString('base64url'),
    pw: { mode: 'generated', value: 'Abcdefghijkmnop23456' },
    ...over,
  };
}
