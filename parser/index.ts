// httpkit parser: incremental, strict HTTP/1.1 request and response parsers.
export type {
  MessageHead, RequestHead, ResponseHead, ParserCallbacks, ParserLimits, ParseErrorShape,
} from './types.ts';
export { RequestParser } from './request-parser.ts';
export { ResponseParser } from './response-parser.ts';
export { ParseError } from './errors.ts';
export { DEFAULT_LIMITS } from './message-parser.ts';
export { getHeader, getHeaders } from './headers.ts';
export { parseRequests, parseResponses, type ParsedMessage, type ParseResult } from './collect.ts';
