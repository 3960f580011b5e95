// Bounded waiting in tests: a plain delay, and polling a condition with a deadline.
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `fn` until it returns something other than undefined or false; fail after `ms`. */
export async function until<T>(fn: () => T | undefined | false, ms = 3000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
