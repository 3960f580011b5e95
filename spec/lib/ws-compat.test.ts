// The older WebSocket names (ifWsRequest, whenWsRequest, onMesg, sendMesg, onClose,
// closeConn) over a real server on 127.0.0.1, with the project's client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../../websocket/index.ts';
import { asChannel, closeConn, ifWsRequest, onClose, onMesg, sendMesg, whenWsRequest, type CloseStatus } from '../../lib/index.ts';
import { connectRaw, get, withServer } from './helpers/raw.ts';
import { until } from './ws-support.ts';

test('ifWsRequest: the callback gets the channel, onMesg/sendMesg echo, onClose gets status and code', async () => {
  const closes: Array<[CloseStatus, number]> = [];
  await withServer((req) => ifWsRequest(req, (conn) => {
    sendMesg(conn, 'welcome');
    onMesg(conn, (msg) => {
      if (msg === 'quit') closeConn(conn, 4000, 'asked');
      else sendMesg(conn, typeof msg === 'string' ? msg.toUpperCase() : msg);
    });
    onClose(conn, (status, code) => closes.push([status, code]));
  }, { status: 400, body: 'WebSocket only\n' }), {}, async (server) => {
    const c = await connect(`ws://127.0.0.1:${server.port}/`);
    const got: Array<string | Buffer> = [];
    c.onMessage = (d, bin) => got.push(bin ? Buffer.from(d) : d.toString());
    const closed = new Promise<[number, string]>((r) => (c.onClose = (code, reason) => r([code, reason])));
    c.send('hi');
    c.send(Buffer.from([5, 6]));
    await until(() => got.length === 3);
    assert.deepEqual(got, ['welcome', 'HI', Buffer.from([5, 6])]);
    c.send('quit');
    assert.deepEqual(await closed, [4000, 'asked']);
    await until(() => closes.length === 1);
    assert.deepEqual(closes, [['server-close', 4000]]);

    // Not a WebSocket request: the alternative is the answer.
    const h = await connectRaw(server.port);
    try {
      h.write(get('/'));
      const [r] = await h.waitResponses(1);
      assert.equal(r!.status, 400);
      assert.equal(r!.body.toString(), 'WebSocket only\n');
    } finally {
      h.close();
    }
  });
});

test('ifWsRequest calls a function alternative with the request; whenWsRequest gives 404 to plain requests', async () => {
  await withServer((req) => {
    if (req.uri === '/when') return whenWsRequest(req, (conn) => onMesg(conn, (m) => sendMesg(conn, `when:${m}`)), { maxMessageSize: 10 });
    return ifWsRequest(req, (conn) => onMesg(conn, (m) => sendMesg(conn, m)), (r) => ({ status: 200, body: `plain ${r.uri}` }));
  }, {}, async (server) => {
    const h = await connectRaw(server.port);
    try {
      h.write(get('/x') + get('/when'));
      const rs = await h.waitResponses(2);
      assert.deepEqual(rs.map((r) => [r.status, r.body.toString()]), [[200, 'plain /x'], [404, 'Not Found\n']]);
    } finally {
      h.close();
    }
    const c = await connect(`ws://127.0.0.1:${server.port}/when`);
    const got: string[] = [];
    c.onMessage = (d) => got.push(d.toString());
    c.send('ping');
    await until(() => got.length === 1);
    assert.deepEqual(got, ['when:ping']);
    const closed = new Promise<number>((r) => (c.onClose = (code) => r(code)));
    c.send('more than ten bytes');
    assert.equal(await closed, 1009, 'options reach the channel');
  });
});

test('onMesg and onClose replace the handlers given to asChannel; they refuse HTTP channels', async () => {
  const log: string[] = [];
  await withServer((req) => {
    const ch = asChannel(req, { onReceive: () => log.push('old receive'), onClose: () => log.push('old close') });
    if (!req.isWebSocket) {
      assert.throws(() => onMesg(ch, () => {}), /not a WebSocket channel/);
      ch.send('http');
      return ch;
    }
    onMesg(ch, (m) => log.push(`new receive ${m}`));
    onClose(ch, (s) => log.push(`new close ${s}`));
    return ch;
  }, {}, async (server) => {
    const c = await connect(`ws://127.0.0.1:${server.port}/`);
    c.send('m1');
    c.close(1000);
    await until(() => log.length === 2);
    assert.deepEqual(log, ['new receive m1', 'new close normal']);
    const h = await connectRaw(server.port);
    try {
      h.write(get('/'));
      const [r] = await h.waitResponses(1);
      assert.equal(r!.body.toString(), 'http');
    } finally {
      h.close();
    }
  });
});

test('through the router and middleware: path params, cookies and query params reach the WebSocket handler', async () => {
  const { routes, GET } = await import('../../lib/router.ts');
  const { wrap, wrapParams, wrapCookies } = await import('../../lib/middleware.ts');
  const app = wrap(routes(
    GET('/rooms/:room', (req) => whenWsRequest(req, (conn) => {
      const params = req.params as Record<string, string>;
      const cookies = req.cookies as Record<string, { value: string } | string>;
      const who = typeof cookies.user === 'string' ? cookies.user : cookies.user!.value;
      sendMesg(conn, `room=${params.room} user=${who} mode=${params.mode}`);
    })),
  ), wrapParams, wrapCookies);
  await withServer(app, {}, async (server) => {
    const c = await connect(`ws://127.0.0.1:${server.port}/rooms/lobby?mode=quiet`, { headers: { Cookie: 'user=ann' } });
    const got: string[] = [];
    c.onMessage = (d) => got.push(d.toString());
    await until(() => got.length === 1);
    assert.deepEqual(got, ['room=lobby user=ann mode=quiet']);
    c.close();
  });
});
