// The pipeline harness for one test file: started in beforeAll, closed in afterAll, named at module
// level through a late-bound stand-in.
import { inject } from 'vitest';
import { startedForFile } from '../../helpers/late-bound.js';
import { startHarness, type Harness, type HarnessOptions } from './pipeline-harness.js';

export function usePipelineHarness(opts: Omit<HarnessOptions, 'redisUrl'> = {}): Harness {
  return startedForFile('the pipeline harness', () => startHarness({ redisUrl: inject('redisUrl'), ...opts }), (h) => h.close());
}
