// The WebSocket chat on its own: npx tsx examples/websocket/server.ts (PORT, default 8080).
import { runServer } from '../../lib/index.ts';
import { createWsChat } from './chat.ts';

const chat = createWsChat('/ws-chat');
const server = await runServer((req) => (req.uri === '/' ? { status: 302, headers: { location: '/ws-chat/' } } : chat(req) ?? { status: 404, body: 'not found\n' }), {
  port: Number(process.env.PORT ?? 8080),
});
console.log(`WebSocket chat on http://localhost:${server.port}/ws-chat/`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void server.stop({ timeout: 500 }).then(() => process.exit(0)));
}
