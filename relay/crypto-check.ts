// Start-up guard: the relay refuses to run on ssh2's pure-JS crypto, which is 2–6× slower and
// stalls under AES-GCM load (see ../shared/reference/relay-notes.md).
import { createRequire } from 'node:module';
import { AppError } from '../shared/errors.js';

const require = createRequire(import.meta.url);

/** True when ssh2 loaded its native binding (sshcrypto.node, built by its install script). */
export function ssh2CryptoBindingLoaded(): boolean {
  try {
    const crypto = require('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: unknown };
    return crypto.bindingAvailable === true;
  } catch {
    return false;
  }
}

/** Throws `crypto_binding_missing` unless the probe reports the native binding. */
export function assertCryptoBinding(probe: () => boolean = ssh2CryptoBindingLoaded): void {
  if (!probe()) {
    throw new AppError(
      'crypto_binding_missing',
      "ssh2's native crypto binding is not loaded (node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node); " +
        'rebuild it with `npm rebuild ssh2` (needs a C++ toolchain and python3) before starting the relay',
    );
  }
}
