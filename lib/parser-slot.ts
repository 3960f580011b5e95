// A request parser from the server's pool, with the state of the message it is reading.
import { RequestParser } from '../parser/index.ts';
import type { RequestHead } from '../parser/types.ts';
import type { RequestHeaders } from './types.ts';
import type { ServerContext } from './context.ts';
import type { Connection } from './connection.ts';

/**
 * A pooled parser, with the state of the message being read, its callbacks pointed at
 * whichever connection holds it. Connections hold one only while reading a message,
 * so an idle connection carries none of this.
 */
export class ParserSlot {
  readonly parser: RequestParser;
  conn: Connection | null = null;
  head: RequestHead | null = null;
  headers: RequestHeaders | null = null;
  /** From the head, for the request map: the Host value (one line), Content-Type, whether Content-Length came. */
  host: string | undefined = undefined;
  contentType: string | null = null;
  hasContentLength = false;
  body: Buffer | null = null;
  bodyLength = 0;
  /** Largest body this message may have: its Content-Length, or maxBody when chunked. */
  bodyLimit = 0;
  headDone = false;
  completed = false;
  /** Status to answer the current message with instead of running the handler. */
  reject = 0;

  constructor(ctx: ServerContext) {
    this.parser = new RequestParser(this, {
      maxStartLine: ctx.maxLine,
      maxHeaderSize: ctx.maxHeaderSize,
      maxHeaders: ctx.maxHeaders,
    });
  }

  onHead(head: RequestHead): void {
    this.conn!.onHead(head);
  }
  onBody(chunk: Buffer): void {
    this.conn!.onBody(chunk);
  }
  onComplete(trailers: string[] | null): void {
    this.conn!.onComplete(trailers);
  }

  /** The message being read is a HEAD request (as far as its head has arrived). */
  isHead(): boolean {
    return (this.head !== null ? this.head.method : this.parser.messageMethod) === 'HEAD';
  }

  /** Forget the message (after dispatch, or when it is rejected). */
  clear(): void {
    this.head = null;
    this.headers = null;
    this.host = undefined;
    this.contentType = null;
    this.hasContentLength = false;
    this.body = null;
    this.bodyLength = 0;
    this.bodyLimit = 0;
    this.headDone = false;
    this.completed = false;
    this.reject = 0;
  }
}
