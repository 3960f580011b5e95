// Shared by the router, middleware, static and fetch-adapter tests: hand-made
// request maps, and a raw-socket HTTP/1.1 client that sends bytes exactly as given.
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from '../../lib/types.ts';

/** A request map as the server would build it; `overrides` wins. */
export function makeRequest(overrides: Partial<Request> = {}): Request {
  const body = overrides.body ?? null;
  const headers = overrides.headers ?? { host: 'example.test' };
  return {
    serverPort: 8080,
    serverName: 'example.test',
    remoteAddr: '127.0.0.1',
    uri: '/',
    queryString: null,
    scheme: 'http',
    requestMethod: 'get',
    protocol: 'HTTP/1.1',
    headers,
    body,
    contentType: headers['content-type'] ?? null,
    contentLength: body === null ? null : body.length,
    characterEncoding: null,
    startTime: 0,
    isWebSocket: false,
    ...overrides,
  };
}

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated fields in order. */
  headers: Record<string, string[]>;
  body: Buffer;
  /** The whole response head as text. */
  head: string;
}

/** First value of a header, or undefined. */
export function header(res: RawResponse, name: string): string | undefined {
  return res.headers[name]?.[0];
}

/**
 * Writes `bytes` to 127.0.0.1:`port` and reads one response (Content-Length,
 * chunked, or close-delimited; no body for HEAD/204/304). Fails after `timeoutMs`.
 */
export function rawRequest(port: number, bytes: string | Buffer, opts: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (err: Error | null, res?: RawResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => finish(new Error(`no complete response within ${opts.timeoutMs ?? 5000} ms`)), opts.timeoutMs ?? 5000);
    const tryParse = (ended: boolean): void => {
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf('\r\n\r\n');
      if (headEnd === -1) {
        if (ended) finish(new Error('connection closed before a response head: ' + JSON.stringify(all.toString('latin1'))));
        return;
      }
      const head = all.toString('latin1', 0, headEnd);
      const lines = head.split('\r\n');
      const status = Number(lines[0]!.split(' ')[1]);
      const headers: Record<string, string[]> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        (headers[name] ??= []).push(line.slice(colon + 1).trim());
      }
      const rest = all.subarray(headEnd + 4);
      const done = (body: Buffer): void => finish(null, { status, headers, body, head });
      if (opts.head || status === 204 || status === 304 || (status >= 100 && status < 200)) return done(Buffer.alloc(0));
      if (headers['transfer-encoding']?.[0]?.toLowerCase() === 'chunked') {
        const out: Buffer[] = [];
        let p = 0;
        for (;;) {
          const lineEnd = rest.indexOf('\r\n', p);
          if (lineEnd === -1) break;
          const size = parseInt(rest.toString('latin1', p, lineEnd), 16);
          if (size === 0) return done(Buffer.concat(out));
          if (rest.length < lineEnd + 2 + size + 2) break;
          out.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
          p = lineEnd + 2 + size + 2;
        }
        if (ended) finish(new Error('connection closed inside a chunked body'));
        return;
      }
      const cl = headers['content-length']?.[0];
      if (cl !== undefined) {
        const n = Number(cl);
        if (rest.length >= n) return done(rest.subarray(0, n));
        if (ended) finish(new Error(`connection closed after ${rest.length} of ${n} body bytes`));
        return;
      }
      if (ended) done(rest);
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('error', (err) => finish(err));
    socket.write(bytes);
  });
}

/** Builds request bytes: a request line with the target exactly as given, then headers and body. */
export function requestBytes(method: string, target: string, headers: Record<string, string> = {}, body?: string | Buffer): Buffer {
  let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`;
  const b = body === undefined ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (b !== null) head += `Content-Length: ${b.length}\r\n`;
  head += '\r\n';
  return b === null ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

/** Sends one request and reads the response. */
export function request(port: number, method: string, target: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
  return rawRequest(port, requestBytes(method, target, headers, body), { head: method === 'HEAD' });
}

/** The boundary used by the multipart tests. */
export const B = '----httpkitBoundary7MA4YWxkTrZu0gW';

/** A multipart body from parts given as [headers, content]. */
export function multipartBody(parts: [string, string | Buffer][], boundary = B, close = true): Buffer {
  const out: Buffer[] = [];
  for (const [headers, content] of parts) {
    out.push(Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`, 'utf8'));
    out.push(Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'));
    out.push(Buffer.from('\r\n'));
  }
  if (close) out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

/**
 * A throwaway site for the static tests, with a secret file beside (not under) the
 * root and a symlink pointing at it. Returns the root and a cleanup function.
 */
export function makeSite(): { base: string; root: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'httpkit-static-test-'));
  const root = join(base, 'public');
  mkdirSync(join(root, 'docs', 'sub'), { recursive: true });
  mkdirSync(join(root, 'empty-dir'));
  writeFileSync(join(base, 'secret.txt'), 'TOP SECRET');
  writeFileSync(join(root, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(root, 'hello.txt'), 'hello world\n');
  writeFileSync(join(root, 'app.js'), 'console.log(1);');
  writeFileSync(join(root, 'style.CSS'), 'body{}');
  writeFileSync(join(root, 'data.bin'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  writeFileSync(join(root, 'empty.txt'), '');
  writeFileSync(join(root, 'caf\u00e9 menu.txt'), 'menu');
  writeFileSync(join(root, '.env'), 'PASSWORD=1');
  writeFileSync(join(root, 'docs', 'index.html'), '<h1>docs</h1>');
  writeFileSync(join(root, 'docs', 'sub', 'page.html'), '<p>page</p>');
  symlinkSync(join(base, 'secret.txt'), join(root, 'escape.txt'));
  symlinkSync(base, join(root, 'escape-dir'));
  symlinkSync(join(root, 'hello.txt'), join(root, 'inside-link.txt'));
  return { base, root, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}
