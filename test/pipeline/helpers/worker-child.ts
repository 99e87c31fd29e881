// Test entry point: runs the pipeline workers in their own process (so a test can SIGKILL it mid
// job). Reads the same environment as the real server; prints "ready" once the workers run.
import { loadServerConfig } from '../../../shared/config.js';
import { loadOrCreateSigningKey } from '../../../shared/key/key-files.js';
import { createLogger } from '../../../shared/logger.js';
import { createMailer } from '../../../shared/mail/mailer.js';
import { startWorkers } from '../../../workers/start-workers.js';
import { RELAY } from './relay-endpoint.js';

const config = loadServerConfig(process.env);
const logger = createLogger('worker-child', config.logLevel);
const mailer = createMailer({ smtpUrl: config.smtpUrl!, from: config.mailFrom, timeoutMs: 30_000 });
const workers = await startWorkers({
  config,
  redisUrl: config.redisUrl!,
  prefix: config.redisPrefix,
  signingKey: loadOrCreateSigningKey(config.home),
  relay: RELAY,
  mailer,
  logger,
  tuning: { retry: { backoffMs: 200 }, lockDurationMs: 1_000, stalledIntervalMs: 500, bridgeBlockMs: 500, bridgeClaimIdleMs: 1_500, operatorEmail: null },
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void workers.close().then(() => {
    mailer.close();
    process.exit(0);
  });
});
