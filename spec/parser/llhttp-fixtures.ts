// Reader for llhttp's Markdown conformance fixtures: each case is a `<!-- meta={...} -->`
// comment, an ```http block of raw bytes and a ```log block of what llhttp reported.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = join(repoRoot, '..', 'shared', 'conformance', 'llhttp');

export interface ExpectedMessage {
  method: string | null;
  url: string | null;
  version: string | null;
  status: number | null;
  headers: string[];
  /** Fields of a chunked body's trailer section. */
  trailers: string[];
  body: string;
}

export interface FixtureCase {
  /** "request/sample.md: Simple request" (unique: a counter is appended to repeated names). */
  id: string;
  file: string;
  name: string;
  /** meta.type: request, response, request-finish, request-lenient-headers, ... */
  type: string;
  meta: Record<string, unknown>;
  bytes: Buffer;
  /** Messages llhttp reported complete, in order. */
  messages: ExpectedMessage[];
  /** llhttp rejected the input (an error other than its pause-on-upgrade signal). */
  rejected: boolean;
  /** llhttp stopped for an upgrade / CONNECT after the last message. */
  upgraded: boolean;
  /** request-finish / response-finish cases: llhttp_finish() result was an error. */
  finishError: boolean | null;
}

/** Turns an ```http block into bytes (README rules). */
export function httpBlockToBytes(block: string): Buffer {
  let s = block.endsWith('\n') ? block.slice(0, -1) : block;
  s = s.replace(/\\\n/g, '');
  s = s.replace(/\n/g, '\r\n');
  s = s.replace(/\$\{([^}]*)\}/g, (_, expr: string) => String(new Function(`return (${expr});`)()));
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      const n = s[i + 1];
      const simple: Record<string, number> = { r: 13, n: 10, t: 9, f: 12 };
      if (n in simple) {
        out.push(simple[n]);
        i++;
        continue;
      }
      if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
        out.push(parseInt(s.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
      const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4));
      if (oct) {
        out.push(parseInt(oct[0], 8) & 0xff);
        i += oct[0].length;
        continue;
      }
    }
    const code = s.charCodeAt(i);
    if (code > 0xff) out.push(...Buffer.from(c, 'utf8'));
    else out.push(code);
  }
  return Buffer.from(out);
}

/** Reads llhttp's span log into messages and the verdict. */
function readLog(log: string): Pick<FixtureCase, 'messages' | 'rejected' | 'upgraded' | 'finishError'> {
  const messages: ExpectedMessage[] = [];
  let cur: ExpectedMessage | null = null;
  let lastSpan = '';
  let rejected = false;
  let upgraded = false;
  let finishError: boolean | null = null;
  let inTrailers = false;
  const fresh = (): ExpectedMessage => ({ method: null, url: null, version: null, status: null, headers: [], trailers: [], body: '' });
  for (const line of log.split('\n')) {
    // A one-byte CR or LF span is logged as a bare `cr` / `lf`.
    const span = /^off=\d+ len=\d+ span\[(\w+)\]=(?:"(.*)"|(cr|lf))$/.exec(line);
    if (span) {
      cur ??= fresh();
      const [, kind, raw, crlf] = span;
      const text = crlf === 'cr' ? '\r' : crlf === 'lf' ? '\n' : unescapeLog(raw);
      switch (kind) {
        case 'method': cur.method = (cur.method ?? '') + text; break;
        case 'url': cur.url = (cur.url ?? '') + text; break;
        case 'version': cur.version = (cur.version ?? '') + text; break;
        case 'header_field': {
          const list = inTrailers ? cur.trailers : cur.headers;
          if (lastSpan === 'header_field') list[list.length - 2] += text;
          else list.push(text, '');
          break;
        }
        case 'header_value': {
          const list = inTrailers ? cur.trailers : cur.headers;
          list[list.length - 1] += text;
          break;
        }
        case 'body': cur.body += text; break;
      }
      lastSpan = kind;
      continue;
    }
    if (/ header_(field|value) complete$/.test(line)) {
      lastSpan = '';
      continue;
    }
    if (/ message begin$/.test(line)) {
      cur = fresh();
      inTrailers = false;
      continue;
    }
    const hc = /headers complete (?:status=(\d+) )?/.exec(line);
    if (hc) {
      cur ??= fresh();
      if (hc[1]) cur.status = Number(hc[1]);
      inTrailers = true;
      continue;
    }
    if (/ message complete$/.test(line)) {
      messages.push(cur ?? fresh());
      cur = null;
      continue;
    }
    const err = /error code=(\d+) reason="(.*)"$/.exec(line);
    if (err) {
      // 22/23: HPE_PAUSED_UPGRADE / HPE_PAUSED_H2_UPGRADE: llhttp's "stop here, new protocol" signal.
      if (err[1] === '22' || err[1] === '23') upgraded = true;
      else rejected = true;
      continue;
    }
    // The finish state llhttp had at EOF: 0 safe, 1 safe after completing the message
    // (close-delimited body), 2 unsafe (incomplete message).
    const fin = /finish=(\d+)/.exec(line);
    if (fin) {
      finishError = fin[1] === '2';
      if (fin[1] === '1') {
        messages.push(cur ?? fresh());
        cur = null;
      }
    }
  }
  return { messages, rejected, upgraded, finishError };
}

function unescapeLog(s: string): string {
  // The log escapes only these; quotes and backslashes appear as they are.
  return s.replace(/\\(x[0-9a-fA-F]{2}|[rntf])/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ r: '\r', n: '\n', t: '\t', f: '\f' } as Record<string, string>)[e];
  });
}

export function readFixtures(): FixtureCase[] {
  const cases: FixtureCase[] = [];
  const seen = new Map<string, number>();
  for (const kind of ['request', 'response']) {
    const dir = join(fixturesDir, kind);
    for (const fileName of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
      const file = `${kind}/${fileName}`;
      const text = readFileSync(join(dir, fileName), 'utf8');
      const re = /^(#+ .*)$|<!--\s*meta=(\{.*?\})\s*-->\s*\n+```http\n([\s\S]*?)```(?:(?!```http)[\s\S])*?```log\n([\s\S]*?)```/gm;
      let heading = '';
      for (let m; (m = re.exec(text)); ) {
        if (m[1]) {
          heading = m[1].replace(/^#+\s*/, '');
          continue;
        }
        const meta = JSON.parse(m[2]) as Record<string, unknown>;
        const base = `${file}: ${heading}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        cases.push({
          id: n === 1 ? base : `${base} #${n}`,
          file,
          name: heading,
          type: String(meta.type),
          meta,
          bytes: httpBlockToBytes(m[3]),
          ...readLog(m[4]),
        });
      }
    }
  }
  return cases;
}

export function fixturesPresent(): boolean {
  return existsSync(join(fixturesDir, 'request'));
}
