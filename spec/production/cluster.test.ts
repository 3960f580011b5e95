// workers: 2 on node:cluster: both serve the port, pub/sub crosses workers over IPC,
// a dead worker is replaced, SIGTERM stops all gracefully (requests in flight finish).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectRaw, get } from '../lib/helpers/raw.ts';
import { stopProcess, sleep, WsCollector } from './helpers.ts';

const fixture = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url));
let primary: ChildProcess | null = null;
const allPids = new Set<number>();

after(async () => {
  await stopProcess(primary, 'SIGKILL');
  for (const pid of allPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

interface Line {
  port?: number;
  pids?: number[];
  online?: number;
  stopped?: boolean;
  restarts?: number;
}

function startPrimary(): { proc: ChildProcess; next: (pred: (l: Line) => boolean, ms?: number) => Promise<Line> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  let wake: () => void = () => {};
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) !== -1) {
      const l = JSON.parse(buf.slice(0, i)) as Line;
      buf = buf.slice(i + 1);
      if (l.online !== undefined) allPids.add(l.online);
      lines.push(l);
    }
    wake();
  });
  const next = async (pred: (l: Line) => boolean, ms = 15_000): Promise<Line> => {
    const end = Date.now() + ms;
    for (;;) {
      const at = lines.findIndex(pred);
      if (at !== -1) return lines.splice(at, 1)[0]!;
      if (Date.now() > end) throw new Error('primary did not print the expected line; got ' + JSON.stringify(lines));
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  return { proc, next };
}

async function pidOf(port: number): Promise<number> {
  const c = await connectRaw(port);
  try {
    c.write(get('/pid'));
    const [r] = await c.waitResponses(1);
    return Number(r!.body.toString());
  } finally {
    c.close();
  }
}

test('workers: 2 share the port, broadcast over IPC, replace a dead worker, stop gracefully', { timeout: 60_000 }, async () => {
  const { proc, next } = startPrimary();
  primary = proc;
  const ready = await next((l) => l.port !== undefined);
  const port = ready.port!;
  assert.equal(ready.pids!.length, 2);
  ready.pids!.forEach((p) => allPids.add(p));

  // New connections are spread over both workers.
  const seen = new Set<number>();
  for (let i = 0; i < 8; i++) seen.add(await pidOf(port));
  assert.deepEqual([...seen].sort(), [...ready.pids!].sort());

  // Long-polls parked on both workers all get a message posted to one of them.
  const polls = await Promise.all([0, 1, 2, 3].map(() => connectRaw(port)));
  const pollPids = new Set<number>();
  for (const p of polls) {
    p.write(get('/pid'));
    pollPids.add(Number((await p.waitResponses(1))[0]!.body.toString()));
    p.write(get('/polling/poll?since=0'));
  }
  assert.equal(pollPids.size, 2, 'polls wait in both workers');
  await sleep(100);
  const poster = await connectRaw(port);
  const body = JSON.stringify({ name: 'ann', text: 'to every worker' });
  poster.write(`POST /polling/send HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  await poster.waitResponses(1, 'POST');
  poster.close();
  for (const p of polls) {
    const rs = await p.waitResponses(2, 'GET', 5000);
    assert.deepEqual((JSON.parse(rs[1]!.body.toString()) as { text: string; id: number }[]).map((m) => [m.id, m.text]), [[1, 'to every worker']]);
    p.close();
  }

  // WebSocket chat: four sockets in a row land two per worker (presence counts are per
  // worker); a message sent on one reaches all four through the primary's relay.
  const sockets: WsCollector[] = [];
  for (let i = 0; i < 4; i++) sockets.push(await WsCollector.open(`ws://127.0.0.1:${port}/ws-chat/socket`));
  try {
    await sleep(200);
    const online = sockets.flatMap((c) => c.messages.map((m) => (JSON.parse(m) as { online?: number }).online ?? 0));
    assert.equal(Math.max(...online), 2, 'each worker holds two of the four sockets');
    sockets[0]!.ws.send(JSON.stringify({ name: 'dee', text: 'ws to every worker' }));
    for (const c of sockets) await c.waitFor((m) => m.includes('ws to every worker'));
  } finally {
    for (const c of sockets) c.close();
  }

  // A worker that dies is replaced; the port keeps being served.
  const doomed = await connectRaw(port);
  doomed.write(get('/pid'));
  const doomedPid = Number((await doomed.waitResponses(1))[0]!.body.toString());
  doomed.write(get('/crash'));
  await doomed.waitClose(5000).catch(() => {});
  doomed.close();
  const replacement = (await next((l) => l.online !== undefined && !ready.pids!.includes(l.online))).online!;
  const after = new Set<number>();
  // It serves once it has started up and listens.
  for (const end = Date.now() + 15_000; Date.now() < end && !after.has(replacement); ) {
    after.add(await pidOf(port));
    await sleep(20);
  }
  assert.ok(after.has(replacement), 'the new worker serves');
  assert.ok(!after.has(doomedPid), 'the dead one does not');

  // SIGTERM to the primary: a request in flight still gets its answer, then all exit.
  const slow = await connectRaw(port);
  slow.write(get('/slow'));
  await sleep(100);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  const [r] = await slow.waitResponses(1, 'GET', 5000);
  assert.equal(r!.status, 200);
  assert.match(r!.body.toString(), /^slow done \d+$/);
  slow.close();
  const stopped = await next((l) => l.stopped === true);
  assert.equal(stopped.restarts, 1);
  assert.equal(await exited, 0);
  for (const pid of allPids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
});
