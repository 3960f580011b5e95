// Chunk-size line scanning (RFC 9112 7.1): chunk-size [ chunk-ext ] CRLF.
import { HEX as HEX_TABLE, TOKEN as TOKEN_TABLE, QDTEXT as QDTEXT_TABLE, QUOTED_PAIR as QUOTED_PAIR_TABLE } from './chars.ts';
import { E_BARE_CR, E_BARE_LF, E_CHUNK_EXTENSION, E_CHUNK_SIZE } from './errors.ts';
import { INCOMPLETE as INCOMPLETE_, type LineScan } from './scan.ts';

// Module-local bindings for the hot loop (see message-parser.ts).
const HEX = HEX_TABLE;
const TOKEN = TOKEN_TABLE;
const QDTEXT = QDTEXT_TABLE;
const QUOTED_PAIR = QUOTED_PAIR_TABLE;
const INCOMPLETE = INCOMPLETE_;
const CR = 13;
const LF = 10;
const SEMI = 59;
const EQUALS = 61;
const DQUOTE = 34;
const BACKSLASH = 92;

const MAX_SIZE = Number.MAX_SAFE_INTEGER;

/**
 * Scans a chunk-size line at buf[p]; sets out.size. Extensions are validated and
 * dropped. Strict: no whitespace around the size or inside extensions (llhttp's strict
 * mode agrees; the BWS the grammar tolerates is a known smuggling vector).
 */
export function scanChunkLine(buf: Buffer, p: number, end: number, out: LineScan): number {
  let i = p;
  let size = 0;
  while (i < end) {
    const h = HEX[buf[i]];
    if (h < 0) break;
    size = size * 16 + h;
    if (size > MAX_SIZE) return out.fail(E_CHUNK_SIZE, i);
    i++;
  }
  if (i >= end) return INCOMPLETE;
  if (i === p) return out.fail(E_CHUNK_SIZE, i);
  const sizeEnd = i;
  let c = buf[i];
  let sawExt = false;
  while (c === SEMI) {
    sawExt = true;
    i++;
    const nameStart = i;
    while (i < end && TOKEN[buf[i]] === 1) i++;
    if (i >= end) return INCOMPLETE;
    if (i === nameStart) return out.fail(E_CHUNK_EXTENSION, i);
    c = buf[i];
    if (c !== EQUALS) continue;
    i++;
    if (i >= end) return INCOMPLETE;
    if (buf[i] === DQUOTE) {
      i++;
      for (;;) {
        if (i >= end) return INCOMPLETE;
        c = buf[i];
        if (c === DQUOTE) break;
        if (c === BACKSLASH) {
          i++;
          if (i >= end) return INCOMPLETE;
          if (QUOTED_PAIR[buf[i]] !== 1) return out.fail(E_CHUNK_EXTENSION, i);
        } else if (QDTEXT[c] !== 1) {
          return out.fail(E_CHUNK_EXTENSION, i);
        }
        i++;
      }
      i++;
    } else {
      const valueStart = i;
      while (i < end && TOKEN[buf[i]] === 1) i++;
      if (i === valueStart) return out.fail(E_CHUNK_EXTENSION, i);
    }
    if (i >= end) return INCOMPLETE;
    c = buf[i];
  }
  if (c !== CR) return out.fail(c === LF ? E_BARE_LF : sawExt ? E_CHUNK_EXTENSION : E_CHUNK_SIZE, i);
  if (i + 1 >= end) return INCOMPLETE;
  if (buf[i + 1] !== LF) return out.fail(E_BARE_CR, i);
  out.size = size;
  out.extLength = i - sizeEnd;
  return i + 2;
}
