// One coarse timer for the whole client: every TICK_MS it asks each tracked object to
// check its deadlines (connect, idle, whole-request, keep-alive). No setTimeout per request.

export interface Ticking {
  /** Checks deadlines at `now` (performance.now()); returns false once it needs no more ticks. */
  tick(now: number): boolean;
}

/** Resolution of every client timeout, in ms. */
export const TICK_MS = 25;

const tracked = new Set<Ticking>();
let interval: ReturnType<typeof setInterval> | null = null;

function run(): void {
  const now = performance.now();
  for (const t of tracked) {
    if (!t.tick(now)) tracked.delete(t);
  }
  if (tracked.size === 0 && interval !== null) {
    clearInterval(interval);
    interval = null;
  }
}

export function track(t: Ticking): void {
  tracked.add(t);
  if (interval === null) {
    interval = setInterval(run, TICK_MS);
    // Sockets keep the process alive while requests are in flight; the timer must not.
    interval.unref();
  }
}
