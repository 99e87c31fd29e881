// The relay endpoint written into keys during pipeline tests (no relay runs in these tests).
export const RELAY = { host: '127.0.0.1', port: 2222, fingerprint: 'SHA256:relay-test-fingerprint' };
