// One coarse timer for all sockets of a server. Connections never own a setTimeout:
// they sit in one of two intrusive lists and a single interval expires them.
//  - the idle list holds keep-alive connections; all share one timeout, so appending
//    keeps it sorted by deadline and a tick pops only what expired.
//  - the active list holds connections in the middle of reading a request (and other
//    timed waits, such as channel timeouts); deadlines differ, a tick walks it.
//    It holds only connections that are slow right now, so the walk stays short.

export interface Timed {
  timerPrev: Timed | null;
  timerNext: Timed | null;
  /** Which list holds this item: 0 none, 1 idle, 2 active. */
  timerList: number;
  /** Absolute deadline in ms (wheel clock). */
  deadline: number;
  onTimeout(now: number): void;
}

/**
 * Monotonic ms since the process started (process.uptime()'s clock). Not
 * performance.now(): its first use loads perf_hooks, about 0.6 ms and 100 KB of young
 * generation at start-up, for the same reading.
 */
export function monotonicMs(): number {
  return process.uptime() * 1000;
}

export const NO_LIST = 0;
export const IDLE_LIST = 1;
export const ACTIVE_LIST = 2;

/** A timed item that is nothing but its list links: a subclass says what its timeout does. */
export abstract class TimerItem implements Timed {
  timerPrev: Timed | null = null;
  timerNext: Timed | null = null;
  timerList = NO_LIST;
  deadline = 0;
  abstract onTimeout(now: number): void;
}

class List {
  head: Timed | null = null;
  tail: Timed | null = null;
}

export class TimerWheel {
  /**
   * Coarse clock in ms since the wheel was made (small integers stay unboxed in the
   * connection objects that store deadlines). Set at each tick or touch.
   */
  now: number;
  /** monotonicMs() at the last touch: the one clock read of a socket read. */
  clockNow: number;
  /** Set by touch(), taken by the first request dispatched after it (see takeFresh). */
  private fresh = false;
  private readonly epoch: number;
  /** Date.now() - monotonicMs(), measured at each tick (the wall clock may be set). */
  private wallOffset: number;
  readonly idleTimeout: number;
  private readonly idle = new List();
  private readonly active = new List();
  private interval: NodeJS.Timeout | null = null;
  private granularity: number;

  /**
   * @param idleTimeout the timeout shared by every item of the idle list (ms)
   * @param granularity tick period in ms: how late a timeout may fire
   */
  constructor(idleTimeout: number, granularity: number) {
    this.clockNow = monotonicMs();
    this.epoch = this.clockNow;
    this.wallOffset = Date.now() - this.clockNow;
    this.now = 0;
    this.idleTimeout = idleTimeout;
    this.granularity = granularity;
  }

  start(): void {
    if (this.interval !== null) return;
    this.interval = setInterval(tick, this.granularity, this);
    this.interval.unref();
  }

  /** Tick often enough for a timeout of `ms` (a quarter of it, 10 ms to 1 s); never slower than now. */
  fitTimeout(ms: number): void {
    const wanted = Math.max(10, Math.min(1000, Math.floor(ms / 4)));
    if (wanted >= this.granularity) return;
    this.granularity = wanted;
    if (this.interval !== null) {
      clearInterval(this.interval);
      this.interval = null;
      this.start();
    }
  }

  stop(): void {
    if (this.interval !== null) clearInterval(this.interval);
    this.interval = null;
  }

  /**
   * Refresh the clock (called once per socket read, not per request). Monotonic: one
   * monotonicMs() serves the timers, the Date header and a request's startTime.
   */
  touch(): number {
    const p = monotonicMs();
    this.clockNow = p;
    this.fresh = true;
    const t = p - this.epoch;
    // Whole ms, kept a small integer (Smi) while it fits (about 12 days): deadlines
    // stored in every idle connection then need no boxed number each.
    return (this.now = t < 0x3fffffff ? t | 0 : Math.floor(t));
  }

  /**
   * monotonicMs() for a request dispatched now: the touch's reading for the first
   * request after it (the same moment, within the parse), a fresh one after that.
   */
  takeFresh(): number {
    if (this.fresh) {
      this.fresh = false;
      return this.clockNow;
    }
    return monotonicMs();
  }

  /** Wall-clock ms at the last touch or tick. */
  wallClock(): number {
    return this.wallOffset + this.clockNow;
  }

  /** Re-measure the wall clock against the monotonic one (each tick). */
  private syncWallClock(): void {
    this.wallOffset = Date.now() - monotonicMs();
  }

  /** Put an item on the idle list, expiring idleTimeout from now. */
  addIdle(item: Timed): void {
    if (item.timerList !== NO_LIST) this.remove(item);
    item.deadline = this.now + this.idleTimeout;
    append(this.idle, item);
    item.timerList = IDLE_LIST;
  }

  /** Put an item on the active list with its own absolute deadline. */
  addActive(item: Timed, deadline: number): void {
    if (item.timerList === ACTIVE_LIST) {
      item.deadline = deadline;
      return;
    }
    if (item.timerList !== NO_LIST) this.remove(item);
    item.deadline = deadline;
    append(this.active, item);
    item.timerList = ACTIVE_LIST;
  }

  remove(item: Timed): void {
    const list = item.timerList;
    if (list === NO_LIST) return;
    unlink(list === IDLE_LIST ? this.idle : this.active, item);
    item.timerList = NO_LIST;
  }

  /** One interval tick: clocks, then expiry. */
  tick(): void {
    this.syncWallClock();
    this.expire(this.touch());
  }

  /** Expire what is due. Public for tests; normally run by the interval. */
  expire(now: number): void {
    this.now = now;
    const idle = this.idle;
    while (idle.head !== null && idle.head.deadline <= now) {
      const item = idle.head;
      unlink(idle, item);
      item.timerList = NO_LIST;
      item.onTimeout(now);
    }
    let item = this.active.head;
    while (item !== null) {
      const next = item.timerNext;
      if (item.deadline <= now) {
        unlink(this.active, item);
        item.timerList = NO_LIST;
        item.onTimeout(now);
      }
      item = next;
    }
  }
}

function tick(wheel: TimerWheel): void {
  wheel.tick();
}

function append(list: List, item: Timed): void {
  item.timerNext = null;
  item.timerPrev = list.tail;
  if (list.tail === null) list.head = item;
  else list.tail.timerNext = item;
  list.tail = item;
}

function unlink(list: List, item: Timed): void {
  const prev = item.timerPrev;
  const next = item.timerNext;
  if (prev === null) list.head = next;
  else prev.timerNext = next;
  if (next === null) list.tail = prev;
  else next.timerPrev = prev;
  item.timerPrev = null;
  item.timerNext = null;
}
