// file(path): a response body streamed from disk with Content-Length.
import type { FileBody } from './types.ts';

/**
 * A file response body. The server opens it when the response is written, sends its
 * size as Content-Length and streams it with backpressure; a missing file gives 404.
 * `start`/`end` (inclusive) send only that byte range.
 */
export function file(path: string, range?: { start?: number; end?: number }): FileBody {
  return { kind: 'file', path, start: range?.start, end: range?.end };
}
