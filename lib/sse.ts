// Server-Sent Events on a streaming channel (text/event-stream, WHATWG HTML 9.2).
import type { Request, ResponseHeaders } from './types.ts';
import { asChannel, type Channel, type CloseStatus } from './channel.ts';

/** One event: `data` is split into `data:` lines; `event`, `id` and `retry` are optional. */
export interface ServerEvent {
  data: string;
  event?: string;
  id?: string;
  /** Reconnection time the browser should use, in ms: a non-negative integer (a fraction is floored). */
  retry?: number;
}

export interface EventStreamOptions {
  /** Called when the stream is open and can send events. May be async; a throw or a rejection breaks the stream off (onClose gets 'error'). */
  onOpen?: (stream: EventStream) => void;
  /** Called once when it closes (client left, server closed it, server stopping, 'error'). */
  onClose?: (stream: EventStream, status: CloseStatus) => void;
  /** Ms between keep-alive comments, so proxies keep the stream open. Default 15000; 0 for none. */
  keepAlive?: number;
  /** Extra response headers. */
  headers?: ResponseHeaders;
}

/**
 * Format one event. `event` and `id` must be single lines (a line break would start
 * another field; NUL makes browsers drop an id): they throw a TypeError. `data` may hold
 * any line breaks (CR, LF, CRLF): it is split into `data:` lines. `retry` must be a
 * finite number (browsers ignore a field that is not all digits).
 */
export function formatEvent(e: ServerEvent): string {
  let s = '';
  if (e.event !== undefined) s += 'event: ' + singleLine(e.event, 'event') + '\n';
  if (e.id !== undefined) s += 'id: ' + singleLine(e.id, 'id') + '\n';
  if (e.retry !== undefined) {
    if (typeof e.retry !== 'number' || !Number.isFinite(e.retry)) throw new TypeError('SSE retry must be a finite number of ms');
    s += 'retry: ' + Math.max(0, Math.floor(e.retry)) + '\n';
  }
  for (const line of String(e.data).split(/\r\n|\r|\n/)) s += 'data: ' + line + '\n';
  return s + '\n';
}

function singleLine(v: string, field: string): string {
  if (typeof v !== 'string') throw new TypeError(`SSE ${field} must be a string`);
  if (/[\r\n\0]/.test(v)) throw new TypeError(`SSE ${field} must be a single line`);
  return v;
}

/** An open event stream to one client. */
export class EventStream {
  readonly channel: Channel;
  private keepAlive = 0;

  constructor(channel: Channel) {
    this.channel = channel;
  }

  get isOpen(): boolean {
    return this.channel.isOpen;
  }

  /**
   * The `Last-Event-ID` request header a reconnecting browser sends (the `id` of the
   * last event it got), decoded as UTF-8; '' when absent. Resume the stream after it.
   */
  get lastEventId(): string {
    return lastEventIdOf(this.channel.request);
  }

  /** Send an event (or just data). Returns the channel's send result (false: closed or buffer full). */
  send(e: ServerEvent | string): boolean {
    return this.channel.send(formatEvent(typeof e === 'string' ? { data: e } : e), false);
  }

  /** A comment line (ignored by browsers), e.g. a keep-alive. */
  comment(text = ''): boolean {
    return this.channel.send(': ' + text.replace(/[\r\n]+/g, ' ') + '\n\n', false);
  }

  close(): boolean {
    this.stopKeepAlive();
    return this.channel.close();
  }

  /** Resolves when the client has taken what was sent. */
  drained(): Promise<void> {
    return this.channel.drained();
  }

  /** Send a keep-alive comment every `ms` (one shared interval per period, not a timer per stream). */
  startKeepAlive(ms: number): void {
    if (ms <= 0 || this.keepAlive !== 0) return;
    this.keepAlive = ms;
    let group = keepAliveGroups.get(ms);
    if (group === undefined) {
      const streams = new Set<EventStream>();
      const timer = setInterval(keepAliveTick, ms, streams);
      timer.unref();
      group = { streams, timer };
      keepAliveGroups.set(ms, group);
    }
    group.streams.add(this);
  }

  stopKeepAlive(): void {
    const ms = this.keepAlive;
    this.keepAlive = 0;
    const group = keepAliveGroups.get(ms);
    if (group === undefined) return;
    group.streams.delete(this);
    if (group.streams.size === 0) {
      clearInterval(group.timer);
      keepAliveGroups.delete(ms);
    }
  }
}

/** Streams grouped by keep-alive period, each group driven by one interval. */
const keepAliveGroups = new Map<number, { streams: Set<EventStream>; timer: NodeJS.Timeout }>();

function keepAliveTick(streams: Set<EventStream>): void {
  for (const stream of [...streams]) {
    if (!stream.isOpen) stream.stopKeepAlive();
    // Bytes still waiting to go out keep the stream alive already: nothing more to queue.
    else if (!stream.channel.needsDrain) stream.comment('keep-alive');
  }
}

/** The Last-Event-ID header as a string: header values are bytes (latin1), browsers send UTF-8. */
function lastEventIdOf(req: Request): string {
  const v = req.headers['last-event-id'];
  if (typeof v !== 'string' || v === '') return '';
  const s = Buffer.from(v, 'latin1').toString('utf8');
  return s.includes('\0') ? '' : s;
}

/**
 * Answer a request with an event stream; return the result from the handler.
 *   return asEventStream(req, { onOpen: (s) => clients.add(s), onClose: (s) => clients.delete(s) });
 */
export function asEventStream(req: Request, options: EventStreamOptions = {}): Channel {
  let stream: EventStream | null = null;
  // The application hears of a stream only once it is open: a HEAD request is answered
  // with the head alone and closes inside the first send, before onOpen.
  let opened = false;
  const channel = asChannel(req, {
    onOpen(ch) {
      stream = new EventStream(ch);
      ch.send({
        status: 200,
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-accel-buffering': 'no',
          ...options.headers,
        },
        body: ': stream open\n\n',
      }, false);
      if (!ch.isOpen) return;
      stream.startKeepAlive(options.keepAlive ?? 15_000);
      opened = true;
      // A throw or a rejection breaks the stream off (onClose gets 'error'): see asChannel's onOpen.
      return options.onOpen?.(stream);
    },
    onClose(_ch, status) {
      if (stream === null) return;
      stream.stopKeepAlive();
      if (opened) return options.onClose?.(stream, status);
    },
  });
  return channel;
}
