// The long-polling chat on its own: npx tsx examples/polling/server.ts (PORT, default 8080).
import { runServer } from '../../lib/index.ts';
import { createChat } from './chat.ts';

const chat = createChat('/polling');
const server = await runServer((req) => (req.uri === '/' ? { status: 302, headers: { location: '/polling/' } } : chat(req)), {
  port: Number(process.env.PORT ?? 8080),
});
console.log(`long-polling chat on http://localhost:${server.port}/polling/`);
process.once('SIGINT', () => void server.stop());
