// 10,000 concurrent long-poll requests held open, then answered by one broadcast:
// server RSS and heap per waiting request, and the time from the broadcast to the
// last response received. httpkit (asChannel) vs the same app on node:http, same run.
//   npm run bench -- longpoll          (CONNECTIONS=10000)
import { connect, type Socket } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rerunWithRaisedFdLimit } from '../fd-limit.ts';
import { startLineTarget, type LineTarget } from '../target-process.ts';
import { onPath } from '../../spec/helpers/tools.ts';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.CONNECTIONS ?? 10_000);

rerunWithRaisedFdLimit(import.meta.url);

const pin = onPath('taskset');

function start(kind: string): Promise<LineTarget> {
  const args = [process.execPath, '--expose-gc', '--import', 'tsx', join(here, 'target.ts'), kind];
  return startLineTarget(pin ? ['taskset', '-c', '0', ...args] : args);
}

interface Poller {
  socket: Socket;
  done: Promise<number>;
}

/** Open `n` polls; each resolves with the time its complete response arrived. */
async function openPolls(port: number, n: number): Promise<Poller[]> {
  const polls: Poller[] = [];
  const batch = 200;
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    await Promise.all(Array.from({ length: k }, () => new Promise<void>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.write('GET /poll HTTP/1.1\r\nHost: localhost\r\n\r\n');
        resolve();
      });
      socket.once('error', reject);
      let got = '';
      socket.setEncoding('latin1');
      const done = new Promise<number>((res, rej) => {
        socket.on('data', (d: string) => {
          got += d;
          if (got.endsWith('}')) res(performance.now());
        });
        socket.once('close', () => rej(new Error('closed before the answer')));
      });
      done.catch(() => {});
      polls.push({ socket, done });
    })));
  }
  return polls;
}

async function waitCount(t: LineTarget, n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const c = Number((await t.ask('count')).slice(6));
    if (c >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the server never held all polls');
}

async function run(kind: string): Promise<{ rss: number; heap: number; ms: number }> {
  const t = await start(kind);
  try {
    const warm = await openPolls(t.port, 200);
    await waitCount(t, 200);
    await t.ask('broadcast');
    await Promise.all(warm.map((p) => p.done));
    for (const p of warm) p.socket.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const before = JSON.parse((await t.ask('mem')).slice(4));
    const polls = await openPolls(t.port, N);
    await waitCount(t, N);
    const after = JSON.parse((await t.ask('mem')).slice(4));
    const t0 = performance.now();
    await t.ask('broadcast');
    const times = await Promise.all(polls.map((p) => p.done));
    const ms = Math.max(...times) - t0;
    for (const p of polls) p.socket.destroy();
    return { rss: (after.rss - before.rss) / N, heap: (after.heap - before.heap) / N, ms };
  } finally {
    t.proc.kill('SIGKILL');
  }
}

const kb = (b: number): string => (b / 1024).toFixed(2) + ' KB';
console.log(`bench/longpoll: ${N.toLocaleString('en')} waiting long-poll requests, then one broadcast`);
const h = await run('httpkit');
console.log(`httpkit    RSS ${kb(h.rss).padStart(9)} / waiting request   heap ${kb(h.heap).padStart(9)}   broadcast -> last response ${h.ms.toFixed(0)} ms`);
const n = await run('node');
console.log(`node:http  RSS ${kb(n.rss).padStart(9)} / waiting request   heap ${kb(n.heap).padStart(9)}   broadcast -> last response ${n.ms.toFixed(0)} ms`);
console.log(`httpkit / node:http   RSS ${(h.rss / n.rss).toFixed(2)}x   heap ${(h.heap / n.heap).toFixed(2)}x   broadcast time ${(h.ms / n.ms).toFixed(2)}x   (target: less memory per waiting request)`);
process.exit(0);
