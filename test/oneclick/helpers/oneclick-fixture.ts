// The one-click system for one test file: started in beforeAll (it takes a while), closed in afterAll.
import { inject } from 'vitest';
import { startedForFile } from '../../helpers/late-bound.js';
import { startOneClickSystem, type OneClickSystem } from './oneclick-system.js';

export function useOneClickSystem(): OneClickSystem {
  return startedForFile('the one-click system', () => startOneClickSystem(inject('redisUrl')), (s) => s.close(), 90_000);
}
