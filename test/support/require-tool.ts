// Tests that need an external program (Chromium, Java, the AWS CLI) fail loudly on CI when it is missing
// (CI installs it), and skip with a printed reason on a developer machine.

import { spawnSync } from 'node:child_process';

export function toolAvailable(command: string, args = ['--version']): boolean {
  const probe = spawnSync(command, args, { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

/** Returns true when the suite may run; throws on CI when the tool is missing. */
export function requireTool(command: string, why: string, args?: string[]): boolean {
  if (toolAvailable(command, args)) return true;
  const message = `${command} is not installed; ${why}`;
  if (process.env.CI) throw new Error(`${message} (CI must install it: see .ci/run)`);
  console.warn(`SKIPPED: ${message}`);
  return false;
}
