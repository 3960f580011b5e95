// multipart/form-data bodies (RFC 7578), streamed part by part; file parts are read
// from disk as they are sent.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ClientError, ERR_INVALID_BODY } from './errors.ts';
import type { FileContent, MultipartPart } from './types.ts';

export interface MultipartBody {
  contentType: string;
  /** The whole body when every part is in memory (sent with Content-Length), else null. */
  buffer: Buffer | null;
  /** A stream of the body when some part is a stream or a file (sent chunked), else null. */
  stream: AsyncIterable<Buffer> | null;
}

function isFile(c: unknown): c is FileContent {
  return typeof c === 'object' && c !== null && typeof (c as FileContent).path === 'string' &&
    !(Symbol.asyncIterator in c) && !Buffer.isBuffer(c);
}

function quote(s: string): string {
  // Field names and filenames are quoted-strings; CR, LF and '"' are percent-encoded (as browsers do).
  return '"' + s.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22') + '"';
}

function partHead(boundary: string, part: MultipartPart): string {
  let filename = part.filename;
  if (filename === undefined && isFile(part.content)) filename = basename(part.content.path);
  let h = '--' + boundary + '\r\nContent-Disposition: form-data; name=' + quote(part.name);
  if (filename !== undefined) h += '; filename=' + quote(filename);
  h += '\r\n';
  let type = part.contentType;
  if (type === undefined && typeof part.content !== 'string') type = 'application/octet-stream';
  if (type !== undefined) {
    if (/[\r\n\0]/.test(type)) throw new ClientError(ERR_INVALID_BODY, 'multipart contentType contains CR, LF or NUL');
    h += 'Content-Type: ' + type + '\r\n';
  }
  return h + '\r\n';
}

export function buildMultipart(parts: readonly MultipartPart[]): MultipartBody {
  if (!Array.isArray(parts)) throw new ClientError(ERR_INVALID_BODY, 'multipart must be an array of parts');
  const boundary = '----httpkit' + randomBytes(12).toString('hex');
  const heads: Buffer[] = [];
  let inMemory = true;
  for (const part of parts) {
    if (part === null || typeof part !== 'object' || typeof part.name !== 'string') {
      throw new ClientError(ERR_INVALID_BODY, 'each multipart part needs a string name');
    }
    const c = part.content;
    if (typeof c !== 'string' && !(c instanceof Uint8Array)) {
      if (!isFile(c) && !(c !== null && typeof c === 'object' && Symbol.asyncIterator in c)) {
        throw new ClientError(ERR_INVALID_BODY, `multipart part ${JSON.stringify(part.name)}: unsupported content`);
      }
      inMemory = false;
    }
    heads.push(Buffer.from(partHead(boundary, part), 'utf8'));
  }
  const contentType = 'multipart/form-data; boundary=' + boundary;
  const tail = Buffer.from('--' + boundary + '--\r\n', 'latin1');
  const crlf = Buffer.from('\r\n', 'latin1');
  if (inMemory) {
    const pieces: Buffer[] = [];
    parts.forEach((p, i) => {
      pieces.push(heads[i]!, typeof p.content === 'string' ? Buffer.from(p.content, 'utf8') : Buffer.from(p.content as Uint8Array), crlf);
    });
    pieces.push(tail);
    return { contentType, buffer: Buffer.concat(pieces), stream: null };
  }
  async function* generate(): AsyncGenerator<Buffer> {
    for (let i = 0; i < parts.length; i++) {
      yield heads[i]!;
      const c = parts[i]!.content;
      if (typeof c === 'string') yield Buffer.from(c, 'utf8');
      else if (c instanceof Uint8Array) yield Buffer.from(c);
      else {
        const source = isFile(c) ? createReadStream(c.path) : (c as AsyncIterable<Uint8Array | string>);
        for await (const chunk of source) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array);
      }
      yield crlf;
    }
    yield tail;
  }
  return { contentType, buffer: null, stream: generate() };
}
