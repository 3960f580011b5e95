// One helper for every parser test: parse the bytes whole AND one byte at a time (and in
// a few odd splits), assert the outcomes are identical, and return the outcome. The
// byte-by-byte run goes through one reused buffer, as a server reading into a shared
// buffer does: execute(shared, end), with line ends, spaces and colons after `end`, and
// the buffer overwritten after every call. A parser that read past `end` or kept a view
// of its input would then disagree with the whole-buffer run.
import assert from 'node:assert/strict';
import { RequestParser, ResponseParser, type MessageHead, type ParserLimits } from '../../parser/index.ts';

export interface Message {
  head: MessageHead & Record<string, unknown>;
  /** Body bytes as latin1 text. */
  body: string;
  trailers: string[] | null;
}

export interface Outcome {
  messages: Message[];
  error: { code: string; offset: number; status: number } | null;
  upgraded: boolean;
  /** How many upgrades the parser stopped for. */
  upgrades: number;
  /** Total bytes consumed when each pause took effect (pauseOn). */
  pausedAt: number[];
  /** Bytes consumed in total (-1 after an error: how much of the failing piece counts is split-dependent). */
  consumed: number;
}

export interface FeedOptions {
  /** Response parser: method of the request answered (default GET). */
  method?: string;
  /** Response parser: minor version of the request answered (default 1). */
  requestVersionMinor?: number;
  limits?: ParserLimits;
  /** Call finish() after the bytes (peer closed). Default false. */
  eof?: boolean;
  /** Call pause() from this callback every time; the driver records where execute() stopped, resumes and re-feeds the rest. */
  pauseOn?: 'head' | 'body' | 'complete';
  /** On an upgrade, decline it (resume()) and keep feeding HTTP. */
  declineUpgrade?: boolean;
}

type Kind = 'request' | 'response';
const EMPTY = Buffer.alloc(0);

// What lies past `end` in the shared buffer: everything a scanner could mistake for input.
const GARBAGE = Buffer.from('\r\n \t:;\n0\r\n\r\nHTTP/1.1 200 OK\r\n', 'latin1');

function run(kind: Kind, buf: Buffer, splits: number[], opts: FeedOptions, shared: Buffer | null = null): Outcome {
  const messages: Message[] = [];
  let head: Message['head'] | null = null;
  let body: Buffer[] = [];
  const callbacks = {
    onHead(h: MessageHead) {
      assert.equal(head, null, 'onHead twice without onComplete');
      head = h as Message['head'];
      body = [];
      if (opts.pauseOn === 'head') parser.pause();
    },
    onBody(chunk: Buffer) {
      assert.notEqual(head, null, 'onBody outside a message');
      assert.ok(chunk.length > 0, 'empty onBody');
      assert.equal(chunk.buffer, (shared ?? buf).buffer, 'body chunk is not a view of the input');
      body.push(Buffer.from(chunk));
      if (opts.pauseOn === 'body') parser.pause();
    },
    onComplete(trailers: string[] | null) {
      assert.notEqual(head, null, 'onComplete without onHead');
      messages.push({ head: head as Message['head'], body: Buffer.concat(body).toString('latin1'), trailers });
      head = null;
      if (opts.pauseOn === 'complete') parser.pause();
    },
  };
  const parser = kind === 'request' ? new RequestParser(callbacks, opts.limits) : new ResponseParser(callbacks, opts.limits);
  if (parser instanceof ResponseParser && opts.method) parser.requestMethod = opts.method;
  if (parser instanceof ResponseParser && opts.requestVersionMinor !== undefined) parser.requestVersionMinor = opts.requestVersionMinor;
  let consumed = 0;
  let from = 0;
  let stopped = false;
  const pausedAt: number[] = [];
  let upgrades = 0;
  const execute = (piece: Buffer): void => {
    for (;;) {
      let n: number;
      if (shared === null) n = parser.execute(piece);
      else {
        piece.copy(shared, 0);
        shared.fill(GARBAGE, piece.length);
        n = parser.execute(shared, piece.length);
        shared.fill(GARBAGE); // whatever the parser kept a view of is gone now
      }
      consumed += n;
      if (parser.paused) {
        pausedAt.push(consumed);
        parser.resume();
        piece = piece.subarray(n);
        continue; // an empty rest still flushes a completion pending behind the pause
      }
      if (parser.upgraded && opts.declineUpgrade) {
        upgrades++;
        parser.resume();
        piece = piece.subarray(n);
        if (piece.length === 0) return;
        continue;
      }
      if (n < piece.length) {
        assert.ok(parser.error !== null || parser.upgraded, 'execute stopped early without error, pause or upgrade');
        stopped = true;
      }
      if (parser.upgraded) upgrades++;
      return;
    }
  };
  for (const to of [...splits, buf.length]) {
    if (to <= from) continue;
    execute(buf.subarray(from, to));
    if (stopped || parser.error !== null || (parser.upgraded && !opts.declineUpgrade)) break;
    from = to;
  }
  if (parser.error === null && !parser.upgraded) execute(EMPTY);
  if (opts.eof && parser.error === null && !parser.upgraded) parser.finish();
  const e = parser.error;
  return {
    messages,
    error: e === null ? null : { code: e.code, offset: e.offset, status: e.status },
    upgraded: parser.upgraded,
    upgrades,
    // Pauses after body chunks depend on how the bytes were split; after heads and messages they must not.
    pausedAt: opts.pauseOn === 'body' ? [pausedAt.length > 0 ? 1 : 0] : pausedAt,
    consumed: e === null ? consumed : -1,
  };
}

/** Parses `input` whole, byte by byte and in odd splits; asserts all agree; returns the outcome. */
export function feed(kind: Kind, input: string | Buffer, opts: FeedOptions = {}): Outcome {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const whole = run(kind, buf, [], opts);
  const bytewise = run(kind, buf, Array.from({ length: buf.length }, (_, i) => i + 1), opts, Buffer.alloc(buf.length + GARBAGE.length));
  assert.deepEqual(bytewise, whole, 'byte-by-byte result differs from whole-buffer result');
  const thirds = run(kind, buf, [Math.floor(buf.length / 3), Math.floor((2 * buf.length) / 3)], opts);
  assert.deepEqual(thirds, whole, 'split result differs from whole-buffer result');
  return whole;
}

export function feedRequest(input: string | Buffer, opts?: FeedOptions): Outcome {
  return feed('request', input, opts);
}

export function feedResponse(input: string | Buffer, opts?: FeedOptions): Outcome {
  return feed('response', input, opts);
}

/** Asserts the bytes are rejected with `code` (and `status` when given); returns the error. */
export function expectError(kind: Kind, input: string | Buffer, code: string, status?: number, opts?: FeedOptions): NonNullable<Outcome['error']> {
  const out = feed(kind, input, opts);
  assert.ok(out.error, `expected ${code}, got no error`);
  assert.equal(out.error.code, code);
  if (status !== undefined) assert.equal(out.error.status, status);
  return out.error;
}
