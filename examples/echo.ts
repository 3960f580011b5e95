// An httpbin-like target for conformance suites and load tests.
//   PORT=<n> npx tsx examples/echo.ts   -> prints `listening on <port>`
//   ANY /echo...    200 JSON {method, uri, query, headers, bodyLength, bodySha256}
//   GET /bytes/N    N bytes with Content-Length
//   GET /stream/N   N chunks, chunked
//   GET /delay/MS   answers after MS ms
//   GET /status/N   status N, empty body
//   GET /ws         WebSocket echo: each text/binary message back with the same opcode (permessage-deflate offered)
import { runServer } from '../lib/index.ts';
import { echoHandler } from './echo-app.ts';

const server = await runServer(echoHandler, {
  port: Number(process.env.PORT ?? 0),
  ip: process.env.HOST ?? '127.0.0.1',
  headersTimeout: 2000,
  keepAliveTimeout: 2000,
  requestTimeout: 10_000,
});
console.log(`listening on ${server.port}`);

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void server.stop({ timeout: 500 }).then(() => process.exit(0)));
}
