// multipart/form-data parser (RFC 7578 over RFC 2046) for a body held in one
// Buffer: a single forward pass with Buffer.indexOf for the delimiter; parts are
// views (offsets) into the body, never copies.
import { decodeComponent } from './urlencoded.ts';

/** A 4xx from the multipart parser: `status` is 400 (malformed) or 413 (a limit). */
export class MultipartError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One part: its headers and the [start, end) byte range of its content in the body. */
export interface RawPart {
  name: string;
  /** null for a plain field; the (possibly empty) file name for a file part. */
  filename: string | null;
  /** The part's Content-Type, or null when absent. */
  contentType: string | null;
  headers: Record<string, string>;
  start: number;
  end: number;
}

// bchars (RFC 2046 section 5.1.1), 1 to 70 of them, not ending with a space
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** The boundary parameter of a multipart Content-Type; throws a 400 MultipartError when missing or invalid. */
export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const b = m === null ? '' : (m[1] ?? m[2] ?? '');
  if (b === '') throw new MultipartError(400, 'multipart body without a boundary parameter');
  if (!BOUNDARY.test(b)) throw new MultipartError(400, 'invalid multipart boundary');
  return b;
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Iterates the parts of `body`; throws MultipartError on malformed input. */
export class MultipartParser {
  private readonly delimiter: Buffer;
  /** "\r\n--boundary": what ends a part's content. */
  private readonly separator: Buffer;
  private pos: number;
  private done = false;

  constructor(
    private readonly body: Buffer,
    boundary: string,
    private readonly maxHeaderSize: number,
  ) {
    this.delimiter = Buffer.from('--' + boundary, 'latin1');
    this.separator = Buffer.from('\r\n--' + boundary, 'latin1');
    // The first delimiter may open the body or follow a preamble line.
    if (body.length >= this.delimiter.length && body.compare(this.delimiter, 0, this.delimiter.length, 0, this.delimiter.length) === 0) {
      this.pos = 0;
    } else {
      const at = body.indexOf(this.separator);
      if (at === -1) throw new MultipartError(400, 'multipart body does not contain its boundary');
      this.pos = at + 2;
    }
  }

  /** The next part, or null after the close delimiter. */
  next(): RawPart | null {
    if (this.done) return null;
    const body = this.body;
    let p = this.pos + this.delimiter.length;
    if (p + 1 < body.length && body[p] === 0x2d && body[p + 1] === 0x2d) {
      this.done = true; // close delimiter; the epilogue is ignored
      return null;
    }
    while (p < body.length && (body[p] === 0x20 || body[p] === 0x09)) p++; // transport padding
    if (p + 1 >= body.length) throw new MultipartError(400, 'truncated multipart body (no closing boundary)');
    if (body[p] !== 0x0d || body[p + 1] !== 0x0a) throw new MultipartError(400, 'malformed multipart delimiter line');
    const headStart = p + 2;
    let contentStart: number;
    let headers: Record<string, string>;
    if (body[headStart] === 0x0d && body[headStart + 1] === 0x0a) {
      headers = Object.create(null);
      contentStart = headStart + 2;
    } else {
      const headEnd = body.indexOf(CRLFCRLF, headStart);
      if ((headEnd === -1 ? body.length : headEnd) - headStart > this.maxHeaderSize) throw new MultipartError(400, 'multipart part headers too large');
      if (headEnd === -1) throw new MultipartError(400, 'truncated multipart part headers');
      headers = parseHeaders(body.toString('utf8', headStart, headEnd));
      contentStart = headEnd + 4;
    }
    const end = body.indexOf(this.separator, contentStart);
    if (end === -1) throw new MultipartError(400, 'truncated multipart part (no closing boundary)');
    this.pos = end + 2;
    const disposition = headers['content-disposition'];
    if (disposition === undefined) throw new MultipartError(400, 'multipart part without Content-Disposition');
    const d = parseDisposition(disposition);
    if (d.type !== 'form-data' || d.name === null) throw new MultipartError(400, 'multipart part is not form-data with a name');
    return { name: d.name, filename: d.filename, contentType: headers['content-type'] ?? null, headers, start: contentStart, end };
  }
}

function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  let last: string | null = null;
  for (const line of text.split('\r\n')) {
    if ((line[0] === ' ' || line[0] === '\t') && last !== null) {
      out[last] += ' ' + line.trim(); // obsolete line folding
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError(400, 'malformed multipart part header');
    last = line.slice(0, colon).trim().toLowerCase();
    out[last] = line.slice(colon + 1).trim();
  }
  return out;
}

interface Disposition {
  type: string;
  name: string | null;
  filename: string | null;
}

/** Content-Disposition: form-data; name="x"; filename="y" (filename* per RFC 8187 preferred). */
export function parseDisposition(value: string): Disposition {
  const semi = value.indexOf(';');
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const out: Disposition = { type, name: null, filename: null };
  let extFilename: string | null = null;
  let i = semi === -1 ? value.length : semi + 1;
  while (i < value.length) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ';')) i++;
    const eq = value.indexOf('=', i);
    if (eq === -1) break;
    const key = value.slice(i, eq).trim().toLowerCase();
    let v: string;
    i = eq + 1;
    while (value[i] === ' ' || value[i] === '\t') i++; // `name = "x"`: the quotes still delimit
    if (value[i] === '"') {
      let j = i + 1;
      v = '';
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        v += value[j];
        j++;
      }
      i = j + 1;
    } else {
      let j = value.indexOf(';', i);
      if (j === -1) j = value.length;
      v = value.slice(i, j).trim();
      i = j;
    }
    if (key === 'name') out.name = v;
    else if (key === 'filename') out.filename = v;
    else if (key === 'filename*') extFilename = decodeExtValue(v);
  }
  if (extFilename !== null) out.filename = extFilename;
  return out;
}

/** RFC 8187 ext-value: charset'lang'pct-encoded; null when not decodable. */
function decodeExtValue(v: string): string | null {
  const m = /^([^']*)'[^']*'(.*)$/.exec(v);
  if (m === null) return null;
  const charset = m[1]!.toLowerCase();
  if (charset !== 'utf-8' && charset !== 'iso-8859-1') return null;
  // `+` is literal in ext-values, unlike in forms: protect it from the form decoder.
  const text = m[2]!.replace(/\+/g, '%2B');
  return decodeComponent(text, 0, text.length, charset);
}
