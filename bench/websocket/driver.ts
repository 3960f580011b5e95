// Load driver shared by both servers: raw TCP clients that send pre-masked frames and
// count echoed bytes, so the driver does far less work per message than the server.
// Usage: driver.ts <port> echo <conns> <size> <text|binary> <seconds> <depth>
//        driver.ts <port> idle <conns>        (opens and holds connections until stdin closes)
import { connect, type Socket } from 'node:net';
import { encodeFrame, Opcode } from '../../websocket/index.ts';

const [portArg, mode, ...rest] = process.argv.slice(2);
const port = Number(portArg);
const REQUEST = Buffer.from(
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
);

/** Connect and finish the handshake; resolves with the socket and any bytes after the 101 head. */
function open(): Promise<{ socket: Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      if (!buf.toString('latin1', 0, 12).includes('101')) reject(new Error(buf.toString()));
      else resolve({ socket, rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(REQUEST);
  });
}

async function openMany(n: number, parallel = 200): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => open()));
    for (const b of batch) out.push(b.socket);
  }
  return out;
}

if (mode === 'echo') {
  const [connsArg, sizeArg, kindArg, secondsArg, depthArg] = rest;
  const conns = Number(connsArg);
  const size = Number(sizeArg);
  const binary = kindArg === 'binary';
  const seconds = Number(secondsArg);
  const depth = Number(depthArg ?? 1);
  const payload = binary ? Buffer.alloc(size, 0xab) : Buffer.from('x'.repeat(size));
  const frame = encodeFrame(binary ? Opcode.BINARY : Opcode.TEXT, payload, { mask: Buffer.from([1, 2, 3, 4]) });
  const batch = Buffer.concat(Array.from({ length: depth }, () => frame));
  const echoBytes = (size < 126 ? 2 : size < 65536 ? 4 : 10) + size;
  const batchEcho = echoBytes * depth;
  let count = 0;
  let running = true;
  const sockets = await openMany(conns);
  for (const s of sockets) {
    let pending = 0;
    s.on('data', (c: Buffer) => {
      pending += c.length;
      while (pending >= batchEcho) {
        pending -= batchEcho;
        count += depth;
        if (running) s.write(batch);
      }
    });
    s.on('error', () => {});
  }
  for (const s of sockets) s.write(batch);
  // Warm up, then measure.
  await new Promise((r) => setTimeout(r, 1000));
  const c0 = count;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const c1 = count;
  const t1 = process.hrtime.bigint();
  running = false;
  console.log(JSON.stringify({ echoesPerSec: ((c1 - c0) * 1e9) / Number(t1 - t0), total: count }));
  for (const s of sockets) s.destroy();
  process.exit(0);
} else if (mode === 'idle') {
  const conns = Number(rest[0]);
  const sockets = await openMany(conns);
  for (const s of sockets) s.on('error', () => {});
  console.log(JSON.stringify({ open: sockets.length }));
  process.stdin.resume();
  process.stdin.on('end', () => {
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
} else {
  console.error('usage: driver.ts <port> echo|idle ...');
  process.exit(2);
}
