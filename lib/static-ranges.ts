// Byte ranges for static files (RFC 9110 section 14): parsing the Range header and
// building a multipart/byteranges body for requests with several ranges.
import { crypto, fsPromises } from './builtins.ts';

/** Most ranges honoured in one request; more (after merging) serve the whole file. */
export const MAX_RANGES = 16;

const RANGE_SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

/**
 * The satisfiable ranges of a `Range` header as sorted, merged [start, end]
 * (inclusive) pairs; null to ignore the header (not `bytes=`, malformed, or too
 * many ranges); 'unsatisfiable' when it is valid but no range overlaps the file.
 */
export function parseRanges(header: string, size: number): [number, number][] | null | 'unsatisfiable' {
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return null;
  // A range-set holds at least one range (RFC 9110 section 14.1.1): `bytes=` or `bytes=,` is malformed.
  if (!/\d/.test(header)) return null;
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > MAX_RANGES * 4) return null;
  const ranges: [number, number][] = [];
  for (const spec of specs) {
    if (spec.trim() === '') continue; // empty list elements are allowed
    const m = RANGE_SPEC.exec(spec);
    if (m === null) return null;
    const [, a, b] = m;
    if (a === '' && b === '') return null;
    if (a === '') {
      const n = Number(b);
      if (n > 0 && size === 0) return null; // satisfiable yet empty: the whole (empty) file, 200
      if (n > 0) ranges.push([Math.max(0, size - n), size - 1]);
      continue;
    }
    const start = Number(a);
    if (b !== '' && Number(b) < start) return null;
    if (start < size) ranges.push([start, b === '' ? size - 1 : Math.min(Number(b), size - 1)]);
  }
  if (ranges.length === 0) return 'unsatisfiable';
  // Overlapping or adjacent ranges are merged, so a client cannot make the server
  // send the same bytes many times.
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [ranges[0]!];
  for (let i = 1; i < ranges.length; i++) {
    const last = merged[merged.length - 1]!;
    const r = ranges[i]!;
    if (r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push(r);
  }
  return merged.length > MAX_RANGES ? null : merged;
}

/** A multipart/byteranges body: its Content-Type, exact length and chunks. */
export interface ByteRangesBody {
  contentType: string;
  length: number;
  body: AsyncIterable<Buffer>;
}

const CHUNK = 65536;

/** The body of a 206 with several ranges of the file at `path`. */
export function byteRangesBody(path: string, ranges: [number, number][], size: number, partType: string): ByteRangesBody {
  const boundary = crypto().randomBytes(12).toString('hex');
  const heads = ranges.map(([s, e], i) =>
    Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: bytes ${s}-${e}/${size}\r\n\r\n`, 'latin1'),
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  let length = tail.length;
  for (let i = 0; i < ranges.length; i++) length += heads[i]!.length + ranges[i]![1] - ranges[i]![0] + 1;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, length, body: readParts(path, ranges, heads, tail) };
}

async function* readParts(path: string, ranges: [number, number][], heads: Buffer[], tail: Buffer): AsyncGenerator<Buffer> {
  const fh = await fsPromises().open(path, 'r');
  try {
    for (let i = 0; i < ranges.length; i++) {
      yield heads[i]!;
      let pos = ranges[i]![0];
      const end = ranges[i]![1];
      while (pos <= end) {
        // A fresh buffer per chunk: the socket may still hold the previous one.
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - pos + 1));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) throw new Error(`${path} shrank while being sent`);
        pos += bytesRead;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
    }
    yield tail;
  } finally {
    await fh.close();
  }
}
