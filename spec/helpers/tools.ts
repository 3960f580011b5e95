// External programs the tests drive (curl, openssl, nginx, python3...). A missing one
// skips its test on a developer machine and fails it in CI (CI=true), where .ci/run
// installs them all.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CI = process.env.CI === 'true';

/** The first of `paths` that exists, or null. */
export function firstExisting(paths: string[]): string | null {
  return paths.find((p) => existsSync(p)) ?? null;
}

/** Whether `cmd` is found on PATH. */
export function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * For a test's `skip` option: the reason when `what` is missing outside CI, else false
 * (in CI the test runs and its own check of the tool fails it).
 */
export function skipWithout(present: unknown, what: string): string | false {
  return present || CI ? false : `${what} not installed`;
}

/** Inside a test: true when the tool is there; fails the test in CI, skips it elsewhere. */
export function requirePeer<P>(present: P | null | false, what: string, t: { skip(msg: string): void }): present is P {
  if (present !== null && present !== false) return true;
  if (CI) throw new Error(`${what} is required in CI`);
  t.skip(`${what} not installed`);
  return false;
}
