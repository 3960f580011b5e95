// Echo server for the benchmark: `httpkit` (node:net + websocket/), `server` (runServer +
// asChannel: the full server path, HTTP parser, request map, handler, socket hand-over),
// `ws` (WebSocketServer), and the floors `raw` and `floor`. Prints "PORT <n>" when
// listening; answers "mem" and "cpu" on stdin with a JSON sample.
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { acceptUpgrade, upgradeSocket, WebSocket } from '../../websocket/index.ts';

const kind = process.argv[2];
const gc = (globalThis as { gc?: () => void }).gc;

function ready(port: number): void {
  console.log(`PORT ${port}`);
}

let connections = 0;

// Floor for the 64-byte echo: the same reads and writes with no WebSocket work at all
// (every 70 bytes in, one prebuilt 66-byte text frame out).
const FLOOR_IN = 2 + 4 + 64;
const floorFrame = Buffer.concat([Buffer.from([0x81, 64]), Buffer.alloc(64, 'x')]);

if (kind === 'httpkit' || kind === 'raw' || kind === 'floor') {
  const server = createServer({ noDelay: true }, (socket) => {
    let head: Buffer | null = null;
    const onData = (chunk: Buffer) => {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      const lines = head.toString('latin1', 0, end).split('\r\n');
      const [method] = lines[0]!.split(' ');
      const headers: Record<string, string> = {};
      for (let i = 1; i < lines.length; i++) {
        const l = lines[i]!;
        const c = l.indexOf(':');
        headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
      }
      if (kind === 'floor') {
        socket.write(acceptUpgrade({ method: method!, headers }).response);
        let pending = 0;
        socket.on('data', (c: Buffer) => {
          pending += c.length;
          const n = Math.floor(pending / FLOOR_IN);
          pending -= n * FLOOR_IN;
          if (n === 1) socket.write(floorFrame);
          else if (n > 1) socket.write(Buffer.concat(Array.from({ length: n }, () => floorFrame)));
        });
        return;
      }
      if (kind === 'raw') {
        // Floor for the memory figure: the 101 is written, the socket kept, no WebSocket object.
        socket.write(acceptUpgrade({ method: method!, headers }).response);
        socket.on('data', () => {});
        connections++;
        return;
      }
      const ws = upgradeSocket(socket, { method: method!, headers }, {}, head.subarray(end + 4));
      head = null;
      if (ws instanceof WebSocket) {
        connections++;
        ws.onMessage = (data, isBinary) => ws.send(data, { binary: isBinary });
        ws.onClose = () => connections--;
      }
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as { port: number }).port));
} else if (kind === 'server') {
  const { asChannel, runServer } = await import('../../lib/index.ts');
  // One options object for every connection: no closures per connection. (Per-request
  // arrow functions would also measure tsx, whose keepNames wraps each named one in a
  // name-defining call that leaves the function with ~250 bytes of dictionary properties.)
  const echoChannel: import('../../lib/index.ts').ChannelOptions = {
    onOpen: () => connections++,
    onReceive: (ch, data) => ch.send(data),
    onClose: () => connections--,
  };
  const server = await runServer((req) => asChannel(req, echoChannel), { ip: '127.0.0.1', port: 0 });
  ready(server.port);
} else if (kind === 'server-floor') {
  // Floor of the server path: the fast read path's reads and a prebuilt frame written per
  // 70 bytes in, with no WebSocket work (what httpkit's echo costs beyond Node and the kernel).
  const { runServer } = await import('../../lib/index.ts');
  const { takeOverSocket } = await import('../../lib/takeover.ts');
  const floorString = floorFrame.toString('latin1');
  const server = await runServer((req) => {
    let pending = 0;
    const taken = takeOverSocket(req, undefined, (buf) => {
      pending += buf.length;
      const n = Math.floor(pending / FLOOR_IN);
      pending -= n * FLOOR_IN;
      if (n === 1) taken!.socket.write(floorString, 'latin1');
      else if (n > 1) taken!.socket.write(floorString.repeat(n), 'latin1');
    })!;
    taken.socket.write(acceptUpgrade({ method: req.requestMethod.toUpperCase(), headers: req.headers as Record<string, string> }).response);
    taken.socket.resume();
    return undefined;
  }, { ip: '127.0.0.1', port: 0 });
  ready(server.port);
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
  wss.on('listening', () => ready((wss.address() as { port: number }).port));
} else {
  console.error('usage: server.ts httpkit|server|ws|raw|floor');
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
