// The httpbin-like handler behind examples/echo.ts and the demo's echo endpoints:
//   ANY /echo...    200 JSON {method, uri, query, headers, bodyLength, bodySha256}
//   GET /bytes/N    N bytes with Content-Length
//   GET /stream/N   N chunks, chunked
//   GET /delay/MS   answers after MS ms
//   GET /status/N   status N, empty body
//   GET /ws         WebSocket echo: each text/binary message back with the same opcode (permessage-deflate offered)
//   OPTIONS *       204 with Allow (the server as a whole)
import { createHash } from 'node:crypto';
import { asChannel, type Channel, type Request, type Response } from '../lib/index.ts';

const MAX_BYTES = 64 * 1024 * 1024;

function num(s: string | undefined, max: number): number | null {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return null;
  const n = Number(s);
  return n <= max ? n : null;
}

export async function echoHandler(req: Request): Promise<Response | Channel> {
  const uri = req.uri;
  // The server only lets `*` through for OPTIONS (RFC 9110 9.3.7).
  if (uri === '*') return { status: 204, headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' }, body: null };
  if (uri === '/ws') {
    // Large limit for conformance suites that send messages of several MiB.
    return asChannel(req, { perMessageDeflate: true, maxMessageSize: 16 * 1024 * 1024, onReceive: (ch, data) => ch.send(data) });
  }
  if (uri === '/echo' || uri.startsWith('/echo/') || uri.startsWith('/echo')) {
    const body = req.body;
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        method: req.requestMethod.toUpperCase(),
        uri,
        query: req.queryString,
        headers: req.headers,
        bodyLength: body === null ? 0 : body.length,
        bodySha256: createHash('sha256').update(body ?? Buffer.alloc(0)).digest('hex'),
      }),
    };
  }
  const [, route, arg] = uri.split('/');
  switch (route) {
    case 'bytes': {
      const n = num(arg, MAX_BYTES);
      if (n === null) break;
      return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(n, 0x61) };
    }
    case 'stream': {
      const n = num(arg, 100_000);
      if (n === null) break;
      return {
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body: (function* () {
          for (let i = 0; i < n; i++) yield `chunk ${i}\n`;
        })(),
      };
    }
    case 'delay': {
      const ms = num(arg, 60_000);
      if (ms === null) break;
      await new Promise((r) => setTimeout(r, ms));
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: `delayed ${ms} ms\n` };
    }
    case 'status': {
      const n = num(arg, 999);
      if (n === null || n < 200) break;
      return { status: n, body: null };
    }
  }
  return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found\n' };
}

