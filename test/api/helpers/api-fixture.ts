// The api harness for one test file: started in beforeAll, closed in afterAll, named at module
// level through a late-bound stand-in; and the usual cast of operators, one per role.
import { inject } from 'vitest';
import type { ApiDeps } from '../../../api/api-server.js';
import type { OperatorRole } from '../../../shared/operator-role.js';
import { startedForFile } from '../../helpers/late-bound.js';
import { startApiHarness, type ApiHarness } from './api-harness.js';

export function useApiHarness(extra: Partial<ApiDeps> = {}): ApiHarness {
  return startedForFile('the api harness', () => startApiHarness(inject('redisUrl'), extra), (h) => h.close());
}

/** Vera the viewer, Eddie the engineer and Ada the admin: their personal tokens by role. */
export async function addOperatorPerRole(h: ApiHarness): Promise<Record<OperatorRole, string>> {
  return {
    viewer: await h.addOperator('vera', 'viewer'),
    engineer: await h.addOperator('eddie', 'engineer'),
    admin: await h.addOperator('ada', 'admin'),
  };
}
