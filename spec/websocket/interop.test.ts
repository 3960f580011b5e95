// Interop with an independent implementation: Python's `websockets` (Debian package
// python3-websockets, run with /usr/bin/python3) as client against our server and as
// server against our client. With CI=true a missing peer is a failure, not a skip.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startServer } from './helpers.ts';
import { assertEchoRun, assertPythonPeer, killPythons, pyWsVersion, runPython, skipWithoutPython, spawnPython, type Line } from '../helpers/python-ws.ts';
import { until } from '../helpers/wait.ts';
import { connect } from '../../websocket/index.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const skip = skipWithoutPython;

test('python websockets peer is available', { skip }, assertPythonPeer);

after(killPythons);

/** Start the Python server; resolves with its port and a live list of its event lines. */
async function startPythonServer(deflate: boolean): Promise<{ port: number; events: Line[]; child: ChildProcess }> {
  const child = spawnPython([join(fixtures, 'py_server.py'), ...(deflate ? ['--deflate'] : [])]);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const events: Line[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`python server did not start: ${stderr}`)), 10000);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('PORT ')) {
        clearTimeout(timer);
        resolve(Number(l.slice(5)));
      } else events.push(JSON.parse(l));
    });
    child.on('exit', () => reject(new Error(`python server exited: ${stderr}`)));
  });
  return { port, events, child };
}

const waitFor = <T>(fn: () => T | undefined): Promise<T> => until(fn, 5000);

for (const deflate of [false, true]) {
  const label = deflate ? 'compressed' : 'plain';

  test(`python client -> our server (${label}): text, binary, large, fragmented, ping, close code`, { skip }, async () => {
    assert.ok(pyWsVersion, 'python websockets required');
    const serverCloses: [number, string][] = [];
    const srv = await startServer({ perMessageDeflate: deflate }, (ws) => {
      ws.onMessage = (d, bin) => ws.send(d, { binary: bin });
      ws.onClose = (code, reason) => serverCloses.push([code, reason]);
    });
    try {
      const r = await runPython([join(fixtures, 'py_client.py'), `${srv.url}/echo`, 'echo', ...(deflate ? ['--deflate'] : [])]);
      assertEchoRun(r, deflate);
      assert.deepEqual(r.lines.at(-1), { event: 'closed', code: 4002, reason: '' });
      const closed = await waitFor(() => serverCloses[0]);
      assert.deepEqual(closed, [4002, 'py reason']);
    } finally {
      await srv.close();
    }
  });

  test(`our client -> python server (${label}): text, binary, large, fragmented both ways, close code`, { skip }, async () => {
    assert.ok(pyWsVersion, 'python websockets required');
    const py = await startPythonServer(deflate);
    try {
      const c = await connect(`ws://127.0.0.1:${py.port}/fragments`, { perMessageDeflate: deflate ? { threshold: 0 } : false });
      assert.equal(c.perMessageDeflate !== null, deflate, 'deflate negotiated as configured');
      const got: [string | Buffer, boolean][] = [];
      c.onMessage = (d, bin) => got.push([bin ? Buffer.from(d) : d.toString(), bin]);
      // The server starts with two fragmented messages.
      await waitFor(() => (got.length >= 2 ? true : undefined));
      assert.deepEqual(got.splice(0), [['fragmented ✓', false], [Buffer.from([0, 1, 2]), true]]);
      const big = Buffer.alloc(200_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;
      const sent: [string | Buffer, boolean][] = [['hello', false], ['ünïcode ✓', false], [Buffer.from([9, 8, 7]), true], ['y'.repeat(100_000), false], [big, true]];
      for (const [m] of sent) c.send(m);
      c.send('our ', { fin: false });
      c.send('frag', { fin: false });
      c.send('ments');
      await waitFor(() => (got.length >= sent.length + 1 ? true : undefined));
      for (let i = 0; i < sent.length; i++) {
        const [m, bin] = sent[i]!;
        assert.equal(got[i]![1], bin);
        assert.ok(bin ? (got[i]![0] as Buffer).equals(m as Buffer) : got[i]![0] === m, `message ${i}`);
      }
      assert.deepEqual(got[sent.length], ['our fragments', false]);
      const closed = new Promise<[number, string]>((r) => (c.onClose = (a, b) => r([a, b])));
      c.close(4005, 'node bye');
      assert.deepEqual(await closed, [4005, 'node bye'], 'python echoes code and reason');
      const pyClosed = await waitFor(() => py.events.find((e) => e.event === 'closed'));
      assert.deepEqual(pyClosed, { event: 'closed', code: 4005, reason: 'node bye' });
    } finally {
      py.child.kill();
    }
  });
}

test('python server closes with 4001: our client reports code and reason', { skip }, async () => {
  assert.ok(pyWsVersion, 'python websockets required');
  const py = await startPythonServer(false);
  try {
    const c = await connect(`ws://127.0.0.1:${py.port}/close`);
    const [code, reason] = await new Promise<[number, string]>((r) => (c.onClose = (a, b) => r([a, b])));
    assert.deepEqual([code, reason], [4001, 'py bye']);
  } finally {
    py.child.kill();
  }
});

test('our server closes with 4003 / 1009: the python client sees the codes', { skip }, async () => {
  assert.ok(pyWsVersion, 'python websockets required');
  const srv = await startServer({ maxPayload: 1000 }, (ws, target) => {
    if (target === '/close') ws.close(4003, 'srv bye');
  });
  try {
    const a = await runPython([join(fixtures, 'py_client.py'), `${srv.url}/close`, 'server-closes']);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(a.lines.at(-1), { event: 'closed', code: 4003, reason: 'srv bye' });
    const b = await runPython([join(fixtures, 'py_client.py'), `${srv.url}/big`, 'too-big']);
    assert.equal(b.code, 0, b.stderr);
    const last = b.lines.at(-1)!;
    assert.equal(last.code, 1009);
  } finally {
    await srv.close();
  }
});
