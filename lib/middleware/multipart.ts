// multipart/form-data uploads: req.multipartParams (fields as strings, files as
// UploadedFile), with limits, temp-file spilling and cleanup after the response.
import { crypto, fsPromises, os } from '../builtins.ts';
import { join } from 'node:path';
import type { Handler, Request } from '../types.ts';
import { MultipartError, MultipartParser, boundaryOf, type RawPart } from './multipart-parser.ts';
import { errorResponse, isResponseMap } from './result.ts';
import { charsetOf, mediaTypeOf, newParamMap } from './urlencoded.ts';
import { UploadedFile } from './upload.ts';

export { UploadedFile } from './upload.ts';
export { MultipartError } from './multipart-parser.ts';

/** Options of `wrapMultipart`; every limit answers 413 when exceeded (malformed input answers 400). */
export interface MultipartOptions {
  /** Most parts (fields and files) in one body. Default `1000`. */
  maxParts?: number;
  /** Largest non-file field, in bytes. Default `1048576` (1 MiB). */
  maxFieldSize?: number;
  /** Largest single file, in bytes. Default `10485760` (10 MiB). */
  maxFileSize?: number;
  /** Largest whole multipart body, in bytes. Default `52428800` (50 MiB). */
  maxTotalSize?: number;
  /** Largest header block of one part, in bytes. Default `8192`. */
  maxHeaderSize?: number;
  /** Files larger than this many bytes are written to a temp file; smaller ones stay in memory. Default `65536`. */
  spillThreshold?: number;
  /** Directory for temp files. Default `os.tmpdir()`. */
  tempDir?: string;
  /** Charset of text fields without their own (and without a `_charset_` field). Default `'utf-8'`. */
  encoding?: string;
}

/** A multipart value: a text field or an uploaded file; repeated names become arrays. */
export type MultipartValue = string | UploadedFile | (string | UploadedFile)[];

const TEMP_PREFIX = 'httpkit-upload-';

/**
 * Parses `multipart/form-data` bodies into `req.multipartParams` and merges the text
 * fields into `req.params`. Malformed bodies (no boundary, truncated part) get 400,
 * exceeded limits 413; in both cases no temp file is left. Temp files are removed
 * once the handler's response has settled (for a stream body, when it closes), so a
 * handler answering later through a channel must read them before returning: move
 * or copy a file in the handler to keep it.
 */
export function wrapMultipart(handler: Handler, options: MultipartOptions = {}): Handler {
  const limits = {
    maxParts: options.maxParts ?? 1000,
    maxFieldSize: options.maxFieldSize ?? 1024 * 1024,
    maxFileSize: options.maxFileSize ?? 10 * 1024 * 1024,
    maxTotalSize: options.maxTotalSize ?? 50 * 1024 * 1024,
    maxHeaderSize: options.maxHeaderSize ?? 8192,
    spillThreshold: options.spillThreshold ?? 64 * 1024,
    tempDir: options.tempDir ?? os().tmpdir(),
    encoding: options.encoding ?? 'utf-8',
  };
  return function multipartHandler(req: Request): unknown {
    const contentType = req.contentType ?? req.headers['content-type'];
    if (mediaTypeOf(contentType) !== 'multipart/form-data') return handler(req);
    return handleMultipart(handler, req, contentType!, limits);
  };
}

type Limits = Required<MultipartOptions>;

async function handleMultipart(handler: Handler, req: Request, contentType: string, limits: Limits): Promise<unknown> {
  const body = req.body ?? Buffer.alloc(0);
  let parts: RawPart[];
  try {
    if (body.length > limits.maxTotalSize) throw new MultipartError(413, `multipart body larger than ${limits.maxTotalSize} bytes`);
    parts = collectParts(body, boundaryOf(contentType), limits);
  } catch (err) {
    if (err instanceof MultipartError) return errorResponse(err.status, (err.status === 413 ? 'Payload Too Large: ' : 'Bad Request: ') + err.message);
    throw err;
  }
  // Every part is validated before any temp file is written.
  const tempFiles: string[] = [];
  let result: unknown;
  try {
    const params = await buildParams(body, parts, limits, tempFiles);
    req.multipartParams = params;
    const merged = newParamMap();
    for (const key of Object.keys(params)) {
      const v = params[key]!;
      if (typeof v === 'string') merged[key] = v;
      else if (Array.isArray(v)) {
        const texts = v.filter((x): x is string => typeof x === 'string');
        if (texts.length > 0) merged[key] = texts.length === 1 ? texts[0]! : texts;
      }
    }
    if (req.params !== undefined) Object.assign(merged, req.params);
    req.params = merged;
    result = await handler(req);
  } catch (err) {
    await removeAll(tempFiles);
    throw err;
  }
  scheduleCleanup(result, tempFiles);
  return result;
}

function collectParts(body: Buffer, boundary: string, limits: Limits): RawPart[] {
  const parser = new MultipartParser(body, boundary, limits.maxHeaderSize);
  const parts: RawPart[] = [];
  for (let part = parser.next(); part !== null; part = parser.next()) {
    if (parts.length >= limits.maxParts) throw new MultipartError(413, `more than ${limits.maxParts} multipart parts`);
    const size = part.end - part.start;
    if (part.filename === null && size > limits.maxFieldSize) throw new MultipartError(413, `field "${part.name}" larger than ${limits.maxFieldSize} bytes`);
    if (part.filename !== null && size > limits.maxFileSize) throw new MultipartError(413, `file "${part.filename}" larger than ${limits.maxFileSize} bytes`);
    parts.push(part);
  }
  return parts;
}

async function buildParams(body: Buffer, parts: RawPart[], limits: Limits, tempFiles: string[]): Promise<Record<string, MultipartValue>> {
  // A `_charset_` field names the charset of fields without their own (RFC 7578 section 4.6).
  let defaultCharset = limits.encoding;
  for (const p of parts) if (p.filename === null && p.name === '_charset_') defaultCharset = body.toString('latin1', p.start, p.end).trim().toLowerCase();
  const params = newParamMap() as unknown as Record<string, MultipartValue>;
  for (const p of parts) {
    let value: string | UploadedFile;
    if (p.filename === null) {
      value = decodeText(body.subarray(p.start, p.end), charsetOf(p.contentType) ?? defaultCharset);
    } else {
      const size = p.end - p.start;
      const type = p.contentType ?? 'application/octet-stream';
      if (size > limits.spillThreshold) {
        const path = join(limits.tempDir, TEMP_PREFIX + crypto().randomBytes(12).toString('hex'));
        tempFiles.push(path);
        await fsPromises().writeFile(path, body.subarray(p.start, p.end), { flag: 'wx', mode: 0o600 });
        value = new UploadedFile(p.name, p.filename, type, size, path, null);
      } else {
        value = new UploadedFile(p.name, p.filename, type, size, null, body.subarray(p.start, p.end));
      }
    }
    const prev = params[p.name];
    if (prev === undefined) params[p.name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else params[p.name] = [prev, value];
  }
  return params;
}

function decodeText(bytes: Buffer, charset: string): string {
  if (charset === 'utf-8' || charset === 'utf8') return bytes.toString('utf8');
  if (charset === 'iso-8859-1' || charset === 'latin1' || charset === 'us-ascii') return bytes.toString('latin1');
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** Removes temp files once the response is done with them. */
function scheduleCleanup(result: unknown, tempFiles: string[]): void {
  if (tempFiles.length === 0) return;
  const body = isResponseMap(result) ? result.body : undefined;
  if (body !== null && typeof body === 'object' && typeof (body as NodeJS.ReadableStream).on === 'function' && typeof (body as NodeJS.ReadableStream).pipe === 'function') {
    const stream = body as NodeJS.ReadableStream;
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      void removeAll(tempFiles);
    };
    stream.on('close', once);
    stream.on('end', once);
    stream.on('error', once);
    return;
  }
  void removeAll(tempFiles);
}

async function removeAll(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => fsPromises().unlink(p).catch(() => undefined)));
}
