// An Ed25519 key pair in OpenSSH formats, made with node:crypto. (ssh2.utils.generateKeyPairSync
// drops a leading zero byte of the public key about once in 250 keys, so OpenSSH and ssh2 then
// refuse the public line: tests must not depend on that lottery.)
import { generateSeed, openSshPrivateKeyFromSeed, openSshPublicLine, rawPublicFromSeed } from '../../shared/ssh-keys.js';

export function ed25519Pair(comment = ''): { private: string; public: string } {
  const seed = generateSeed();
  return { private: openSshPrivateKeyFromSeed(seed, comment), public: openSshPublicLine(rawPublicFromSeed(seed), comment) };
}
