// The demo server started by `npm start`: an index page linking the hello world, the
// long-polling chat, the WebSocket chat, an upload form and the echo endpoints.
//   PORT to change the port (default 8080), HOST the address (default 0.0.0.0).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { runServer, type Request, type Handler } from '../lib/index.ts';
import { routes, GET, ANY, notFound } from '../lib/router.ts';
import { createChat } from './polling/chat.ts';
import { createWsChat } from './websocket/chat.ts';
import { uploadHandler } from './upload/upload.ts';
import { echoHandler } from './echo-app.ts';

const indexPage = readFileSync(new URL('./demo/index.html', import.meta.url), 'utf8');
const pollingChat = createChat('/polling');
const wsChat = createWsChat('/ws-chat');

/** Everything the router does not name: the two chats, then the echo endpoints. */
const mounted: Handler = (req: Request) => pollingChat(req) ?? wsChat(req) ?? echoHandler(req);

export const demoHandler = routes(
  GET('/', () => ({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: indexPage })),
  GET('/hello', (req) => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: `hello world from ${req.uri}\n` })),
  ANY('/upload', uploadHandler),
  notFound(mounted),
);

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = await runServer(demoHandler, {
    port: Number(process.env.PORT ?? 8080),
    ip: process.env.HOST ?? '0.0.0.0',
  });
  console.log(`httpkit demo on http://localhost:${server.port}/`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void server.stop({ timeout: 500 }).then(() => process.exit(0)));
  }
}
