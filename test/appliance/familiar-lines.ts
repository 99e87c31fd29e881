// What `ktether enable` prints on success, in the familiar format of the old tool: a dated
// "Starting." line, "Starting ssh.", then the "[tether]" marker, and nothing else.
import { expect } from 'vitest';

const FAMILIAR = /^\[[A-Z][a-z]{2}, [A-Z][a-z]{2} \d{2} \d{4} \d{2}:\d{2}:\d{2} \S+\] \[ktether\] /;

export function expectFamiliarEnableLines(stdout: string): void {
  const lines = stdout.trimEnd().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(FAMILIAR);
  expect(lines[0]).toMatch(/\[ktether\] Starting\.$/);
  expect(lines[1]).toMatch(/\[ktether\] Starting ssh\.$/);
  expect(lines[2]).toBe('[tether]');
}
