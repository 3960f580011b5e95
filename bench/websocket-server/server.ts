// Echo server for the benchmark: `httpkit` is runServer + asChannel (the full server
// path: HTTP parser, request map, handler, socket hand-over); `ws` is ws's
// WebSocketServer. Prints "PORT <n>" when listening; answers "mem" and "cpu" on stdin
// with a JSON sample.
import { createInterface } from 'node:readline';
import { asChannel, runServer, type ChannelOptions } from '../../lib/index.ts';

const kind = process.argv[2] ?? 'httpkit';
const gc = (globalThis as { gc?: () => void }).gc;
let connections = 0;

if (kind === 'httpkit') {
  // One options object for every connection: no closures per connection. (Per-request
  // arrow functions would also measure tsx, whose keepNames wraps each named one in a
  // name-defining call that leaves the function with ~250 bytes of dictionary properties.)
  const echoChannel: ChannelOptions = {
    onOpen: () => connections++,
    onReceive: (ch, data) => ch.send(data),
    onClose: () => connections--,
  };
  const server = await runServer((req) => asChannel(req, echoChannel), { ip: '127.0.0.1', port: 0 });
  console.log(`PORT ${server.port}`);
} else if (kind === 'ws') {
  // ws ships no types; describe the little used here.
  interface PeerSocket {
    on(ev: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
    on(ev: 'close' | 'error', fn: () => void): void;
    send(data: Buffer, opts: { binary: boolean }): void;
  }
  interface PeerServer {
    on(ev: 'connection', fn: (ws: PeerSocket) => void): void;
    on(ev: 'listening', fn: () => void): void;
    address(): { port: number };
  }
  const mod = (await import('ws' as string)) as { WebSocketServer: new (opts: object) => PeerServer };
  const wss = new mod.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
  wss.on('connection', (ws) => {
    connections++;
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', () => connections--);
    ws.on('error', () => {});
  });
  wss.on('listening', () => console.log(`PORT ${wss.address().port}`));
} else {
  console.error('usage: server.ts httpkit|ws');
  process.exit(2);
}

// Exit cleanly on SIGINT so --cpu-prof can write its profile.
process.on('SIGINT', () => process.exit(0));

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'cpu') {
    const c = process.cpuUsage();
    console.log(JSON.stringify({ cpuMicros: c.user + c.system }));
    return;
  }
  if (line !== 'mem') return;
  for (let i = 0; i < 3; i++) gc?.();
  const m = process.memoryUsage();
  console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers, connections }));
});
