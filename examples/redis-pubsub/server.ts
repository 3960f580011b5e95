// One of N chat servers sharing their rooms through Redis: run it on as many
// machines (or ports) as you like, put a load balancer in front (docs/scaling.md).
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8081 npm start     (in this folder, after npm install)
// Serves the long-polling chat at /polling/ and the WebSocket chat at /ws-chat/.
import { runServer, type Request } from '../../lib/index.ts';
import { createChat } from '../polling/chat.ts';
import { createWsChat } from '../websocket/chat.ts';
import { RedisPubSub } from './redis-pubsub.ts';

const pubsub = await RedisPubSub.connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const polling = createChat('/polling', { pubsub });
const ws = createWsChat('/ws-chat', { pubsub });
await pubsub.ready();

const server = await runServer(
  (req: Request) =>
    polling(req) ??
    ws(req) ??
    (req.uri === '/'
      ? { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<a href="/polling/">long-polling chat</a> · <a href="/ws-chat/">WebSocket chat</a>\n' }
      : { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found\n' }),
  {
    port: Number(process.env.PORT ?? 8080),
    ip: process.env.HOST ?? '0.0.0.0',
    // Behind a load balancer on this machine: believe its X-Forwarded-For.
    trustedProxies: (process.env.TRUSTED_PROXIES ?? 'loopback').split(',').filter(Boolean),
  },
);
console.log(`chat server on port ${server.port}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void server
      .stop({ timeout: 1000 })
      .then(() => pubsub.close())
      .then(() => process.exit(0));
  });
}
