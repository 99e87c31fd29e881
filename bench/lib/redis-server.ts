// A private redis-server for benchmarks: the test suite's launcher (same settings as the embedded
// default), with every process it starts killed if the benchmark exits early. Never a system Redis.
import { startRedisServer as startShared, type RedisServerHandle } from '../../test/helpers/redis-server.js';
import { killOnExit } from './kill-on-exit.js';

export { freePort, type RedisServerHandle } from '../../test/helpers/redis-server.js';

export function startRedisServer(): Promise<RedisServerHandle> {
  return startShared({ onSpawn: killOnExit });
}
