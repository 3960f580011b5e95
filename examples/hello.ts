// Hello world: a handler is a function from a request map to a response map.
//   npx tsx examples/hello.ts   (PORT to change the port, default 8080)
import { runServer } from '../lib/index.ts';

const server = await runServer(
  (req) => ({
    status: 200,
    headers: { 'content-type': 'text/plain' },
    body: `hello world from ${req.uri}\n`,
  }),
  { port: Number(process.env.PORT ?? 8080) },
);
console.log(`listening on http://localhost:${server.port}`);

process.once('SIGINT', () => void server.stop());
