// Whole-buffer convenience for conformance users: bytes in, parsed messages out.
import type { MessageHead, ParserLimits, RequestHead, ResponseHead } from './types.ts';
import type { ParseError } from './errors.ts';
import type { MessageParser } from './message-parser.ts';
import { RequestParser } from './request-parser.ts';
import { ResponseParser } from './response-parser.ts';

export interface ParsedMessage<H extends MessageHead> {
  head: H;
  /** The whole (de-chunked) body, copied. */
  body: Buffer;
  trailers: string[] | null;
}

export interface ParseResult<H extends MessageHead> {
  /** Every message completed, in order. */
  messages: ParsedMessage<H>[];
  error: ParseError | null;
  /** Bytes consumed; less than the input when an error occurred or an upgrade stopped parsing. */
  consumed: number;
}

class Collector<H extends MessageHead> {
  readonly messages: ParsedMessage<H>[] = [];
  private head: H | null = null;
  private parts: Buffer[] = [];

  onHead(head: H): void {
    this.head = head;
    this.parts = [];
  }

  onBody(chunk: Buffer): void {
    this.parts.push(Buffer.from(chunk));
  }

  onComplete(trailers: string[] | null): void {
    this.messages.push({ head: this.head as H, body: Buffer.concat(this.parts), trailers });
    this.head = null;
    this.parts = [];
  }
}

function run<H extends MessageHead>(parser: MessageParser<H>, collector: Collector<H>, buf: Buffer, eof: boolean): ParseResult<H> {
  const consumed = parser.execute(buf);
  let error = parser.error;
  if (error === null && !parser.upgraded && eof) error = parser.finish();
  return { messages: collector.messages, error, consumed };
}

/**
 * Parses every request in `buf`. With `eof` (default true) the end of `buf` is the end of
 * the connection, so an incomplete message is an error.
 */
export function parseRequests(buf: Buffer, limits?: ParserLimits, eof = true): ParseResult<RequestHead> {
  const collector = new Collector<RequestHead>();
  return run(new RequestParser(collector, limits), collector, buf, eof);
}

/** Parses every response in `buf` answering requests made with `requestMethod` (default GET). The end of `buf` ends a close-delimited body. */
export function parseResponses(buf: Buffer, requestMethod = 'GET', limits?: ParserLimits, eof = true): ParseResult<ResponseHead> {
  const collector = new Collector<ResponseHead>();
  const parser = new ResponseParser(collector, limits);
  parser.requestMethod = requestMethod;
  return run(parser, collector, buf, eof);
}
