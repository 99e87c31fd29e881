// vitest global setup: one private redis-server for the whole run (tests isolate themselves with
// a random key prefix). Its URL reaches tests through `inject('redisUrl')`.
import type { TestProject } from 'vitest/node';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

let server: RedisServerHandle | undefined;

export default async function setup(project: TestProject) {
  server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return async () => {
    await server?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
