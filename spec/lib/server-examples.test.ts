// examples/echo.ts and examples/hello.ts run as their users start them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectRaw, get, responsesOf, sendRaw } from './helpers/raw.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function start(script: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, script)], {
    cwd: root,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${script} did not print its port`));
    }, 15_000);
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (?:http:\/\/localhost:)?(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

test('examples/echo.ts: /echo, /bytes, /stream, /delay, /status', async () => {
  const { proc, port } = await start('examples/echo.ts');
  try {
    const c = await connectRaw(port);
    const body = 'some body';
    c.write(`PUT /echo/sub?a=1 HTTP/1.1\r\nHost: h\r\nX-Test: yes\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    c.write(get('/bytes/10') + get('/stream/3') + get('/delay/30') + get('/status/418') + get('/nope') + 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n');
    const rs = await c.waitResponses(7, 'GET', 5000);
    c.close();
    const echo = JSON.parse(rs[0]!.body.toString());
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.uri, '/echo/sub');
    assert.equal(echo.query, 'a=1');
    assert.equal(echo.headers['x-test'], 'yes');
    assert.equal(echo.bodyLength, body.length);
    assert.equal(echo.bodySha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(rs[1]!.headers['content-length'], '10');
    assert.equal(rs[1]!.body.length, 10);
    assert.equal(rs[2]!.headers['transfer-encoding'], 'chunked');
    assert.equal(rs[2]!.body.toString().trim().split('\n').length, 3);
    assert.equal(rs[3]!.status, 200);
    assert.equal(rs[4]!.status, 418);
    assert.equal(rs[4]!.body.length, 0);
    assert.equal(rs[5]!.status, 404);
    assert.equal(rs[6]!.status, 204);
    assert.match(rs[6]!.headers['allow'] ?? '', /OPTIONS/);
  } finally {
    proc.kill('SIGTERM');
  }
});

test('examples/hello.ts answers hello world', async () => {
  const { proc, port } = await start('examples/hello.ts');
  try {
    const r = responsesOf(await sendRaw(port, get('/', 'Connection: close\r\n')))[0]!;
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /^hello world/);
  } finally {
    proc.kill('SIGTERM');
  }
});
