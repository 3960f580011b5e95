// Interop: Python's `websockets` (Debian python3-websockets, run with /usr/bin/python3)
// as a client against runServer + asChannel. With CI=true a missing peer fails.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { asChannel, type CloseStatus } from '../../lib/index.ts';
import { withServer } from './helpers/raw.ts';
import { until } from './ws-support.ts';
import { assertEchoRun, assertPythonPeer, killPythons, pyWsVersion, runPython, skipWithoutPython } from '../helpers/python-ws.ts';

const skip = skipWithoutPython;

// The client: echo scenario with text, binary, large, fragmented, ping, then a close code.
const CLIENT = String.raw`
import asyncio, json, sys
import websockets

def log(**kw):
    print(json.dumps(kw), flush=True)

async def main():
    url, scenario = sys.argv[1], sys.argv[2]
    compression = "deflate" if "--deflate" in sys.argv else None
    async with websockets.connect(url, compression=compression, ping_interval=None, max_size=2**24, subprotocols=["chat", "echo.v1"]) as ws:
        log(event="open", extensions=ws.response_headers.get("Sec-WebSocket-Extensions", ""), subprotocol=ws.subprotocol)
        if scenario == "echo":
            msgs = ["hello", "ünïcode ✓ 𝄞", b"\x00\x01\x02\xff", "x" * 100000, bytes(range(256)) * 300]
            for msg in msgs:
                await ws.send(msg)
                back = await ws.recv()
                log(event="echo", ok=(back == msg), binary=isinstance(back, bytes))
            await ws.send(["frag", "men", "ted"])
            log(event="echo", ok=(await ws.recv() == "fragmented"), binary=False)
            await ws.send([b"ab", b"", b"cd"])
            log(event="echo", ok=(await ws.recv() == b"abcd"), binary=True)
            pong = await ws.ping(b"py-ping")
            await asyncio.wait_for(pong, 5)
            log(event="pong")
            await ws.close(code=4002, reason="py reason")
            log(event="closed", code=ws.close_code)
        elif scenario == "server-closes":
            await ws.send("close please")
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as e:
                log(event="closed", code=e.rcvd.code if e.rcvd else None, reason=e.rcvd.reason if e.rcvd else None)
        elif scenario == "too-big":
            await ws.send(b"\x00" * 2000)
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed as e:
                log(event="closed", code=e.rcvd.code if e.rcvd else None)

asyncio.run(main())
`;

after(killPythons);

function runClient(args: string[]) {
  return runPython(['-c', CLIENT, ...args]);
}

test('python websockets peer is available', { skip }, assertPythonPeer);

for (const deflate of [false, true]) {
  test(`python client -> runServer + asChannel (${deflate ? 'compressed' : 'plain'}): echo, fragments, ping, close code`, { skip }, async () => {
    assert.ok(pyWsVersion, 'python websockets required');
    const closes: Array<[CloseStatus, number | undefined, string | undefined]> = [];
    await withServer((req) => asChannel(req, {
      perMessageDeflate: deflate,
      protocols: ['echo.v1'],
      onReceive: (ch, d) => ch.send(d),
      onClose: (_ch, s, code, reason) => closes.push([s, code, reason]),
    }), {}, async (server) => {
      const r = await runClient([`ws://127.0.0.1:${server.port}/echo`, 'echo', ...(deflate ? ['--deflate'] : [])]);
      const open = assertEchoRun(r, deflate);
      assert.equal(open.subprotocol, 'echo.v1');
      assert.deepEqual(r.lines.at(-1), { event: 'closed', code: 4002 });
      await until(() => closes.length === 1);
      assert.deepEqual(closes, [['client-close', 4002, 'py reason']]);
    });
  });
}

test('python client sees our close code 4003 and 1009 for a message over maxMessageSize', { skip }, async () => {
  assert.ok(pyWsVersion, 'python websockets required');
  await withServer((req) => asChannel(req, {
    maxMessageSize: 1000,
    onReceive: (ch) => ch.close(4003, 'srv bye'),
  }), {}, async (server) => {
    const a = await runClient([`ws://127.0.0.1:${server.port}/`, 'server-closes']);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(a.lines.at(-1), { event: 'closed', code: 4003, reason: 'srv bye' });
    const b = await runClient([`ws://127.0.0.1:${server.port}/`, 'too-big']);
    assert.equal(b.code, 0, b.stderr);
    assert.deepEqual(b.lines.at(-1), { event: 'closed', code: 1009 });
  });
});
