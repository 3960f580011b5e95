// Scale-out: two chat servers (examples/redis-pubsub/server.ts, separate processes)
// behind nginx, sharing rooms through Debian's redis-server. A message posted through
// one server reaches the long-poll and WebSocket clients of the other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createClient } from '../../client/index.ts';
import { spawnUntilPort } from '../helpers/process.ts';
import { NGINX, REDIS, CI, startNginx, startRedis, stopProcess, sleep, WsCollector, type Nginx, type Redis } from './helpers.ts';

const exampleDir = fileURLToPath(new URL('../../examples/redis-pubsub/', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const client = createClient();
let redis: Redis | null = null;
let nginx: Nginx | null = null;
const servers: ChildProcess[] = [];
let missing: string | null = null;

/** The example's own dependency (the `redis` client), installed once into its node_modules. */
function installExample(): void {
  if (existsSync(join(exampleDir, 'node_modules', 'redis', 'package.json'))) return;
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: exampleDir, stdio: 'ignore', timeout: 180_000 });
}

async function startChatServer(redisPort: number): Promise<{ proc: ChildProcess; port: number }> {
  const server = await spawnUntilPort(join(exampleDir, 'server.ts'), [], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REDIS_URL: `redis://127.0.0.1:${redisPort}` },
  });
  servers.push(server.proc);
  return server;
}

before(async () => {
  missing = NGINX === null ? 'nginx' : REDIS === null ? 'redis-server' : null;
  if (missing !== null) {
    if (CI) throw new Error(`${missing} is required for the scale-out test in CI`);
    return;
  }
  installExample();
  redis = await startRedis();
  const [a, b] = await Promise.all([startChatServer(redis.port), startChatServer(redis.port)]);
  const common = `proxy_http_version 1.1; proxy_set_header Host $host; proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off; proxy_read_timeout 60s;`;
  nginx = await startNginx((port) => ({
    http: `
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream chat { server 127.0.0.1:${a!.port}; server 127.0.0.1:${b!.port}; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://chat; ${common} }
    location /a/ { proxy_pass http://127.0.0.1:${a!.port}/; ${common} }
    location /b/ { proxy_pass http://127.0.0.1:${b!.port}/; ${common} }
  }`,
  }));
});

after(async () => {
  client.close();
  if (nginx !== null) await nginx.stop();
  await Promise.all(servers.map((p) => stopProcess(p, 'SIGTERM')));
  if (redis !== null) await redis.stop();
});

test('scale-out: a post through server A answers a long-poll waiting on server B', { timeout: 60_000 }, async (t) => {
  if (missing !== null) return t.skip(`${missing} not installed`);
  const base = `http://127.0.0.1:${nginx!.port}`;
  let answered = false;
  const poll = client.request({ url: `${base}/b/polling/poll?since=0`, timeout: 15_000 }).finally(() => (answered = true));
  await sleep(300);
  assert.equal(answered, false, 'B has nothing yet: the poll waits');
  const sent = await client.request({
    url: `${base}/a/polling/send`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ann', text: 'from A to B' }),
  });
  assert.equal(sent.status, 200);
  const r = await poll;
  assert.equal(r.status, 200);
  assert.deepEqual((JSON.parse(r.body as string) as { id: number; name: string; text: string }[]).map((m) => [m.id, m.name, m.text]), [[1, 'ann', 'from A to B']]);
  // Both servers numbered it the same: a poll may go to either.
  for (const s of ['a', 'b']) {
    const h = await client.request({ url: `${base}/${s}/polling/poll?since=0`, timeout: 5000 });
    assert.deepEqual((JSON.parse(h.body as string) as { id: number; text: string }[]).map((m) => [m.id, m.text]), [[1, 'from A to B']], `history on ${s}`);
  }
});

test('scale-out: a WebSocket message sent to server A reaches sockets on B (and through the balanced upstream)', { timeout: 60_000 }, async (t) => {
  if (missing !== null) return t.skip(`${missing} not installed`);
  const ws = `ws://127.0.0.1:${nginx!.port}`;
  const onA = await WsCollector.open(`${ws}/a/ws-chat/socket`);
  const onB = await WsCollector.open(`${ws}/b/ws-chat/socket`);
  // Round-robin upstream: two more sockets, one per server.
  const balanced = [await WsCollector.open(`${ws}/ws-chat/socket`), await WsCollector.open(`${ws}/ws-chat/socket`)];
  try {
    await onB.waitFor((m) => m.includes('"type":"presence"'));
    onA.ws.send(JSON.stringify({ name: 'bob', text: 'A to everyone' }));
    for (const c of [onA, onB, ...balanced]) {
      const m = JSON.parse(await c.waitFor((x) => x.includes('A to everyone'))) as { name: string; type: string };
      assert.deepEqual([m.type, m.name], ['message', 'bob']);
    }
    balanced[1]!.ws.send(JSON.stringify({ name: 'cy', text: 'balanced back' }));
    for (const c of [onA, onB, ...balanced]) await c.waitFor((x) => x.includes('balanced back'));
  } finally {
    for (const c of [onA, onB, ...balanced]) c.close();
  }
});
