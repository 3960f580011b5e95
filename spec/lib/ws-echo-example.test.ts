// examples/echo.ts `/ws`: each text/binary message comes back with the same opcode,
// permessage-deflate accepted. The example runs as its own process, as suites use it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from '../../websocket/index.ts';
import { until } from './ws-support.ts';

const script = fileURLToPath(new URL('../../examples/echo.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
after(() => {
  child.kill('SIGKILL');
});

const port = new Promise<number>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('examples/echo.ts did not start')), 20_000);
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const m = /listening on (\d+)/.exec(l);
    if (m) {
      clearTimeout(timer);
      resolve(Number(m[1]));
    }
  });
  child.once('exit', (code) => reject(new Error(`examples/echo.ts exited with ${code}`)));
});

for (const deflate of [false, true]) {
  test(`echo example /ws (${deflate ? 'compressed' : 'plain'}): same opcode back, fragments joined`, async () => {
    const c = await connect(`ws://127.0.0.1:${await port}/ws`, { perMessageDeflate: deflate });
    assert.equal(c.perMessageDeflate !== null, deflate);
    const got: Array<[string | Buffer, boolean]> = [];
    c.onMessage = (d, bin) => got.push([bin ? Buffer.from(d) : d.toString(), bin]);
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    c.send('text ✓');
    c.send(big);
    c.send('a', { fin: false });
    c.send('b');
    await until(() => got.length === 3, 5000, 'three echoes');
    assert.deepEqual(got[0], ['text ✓', false]);
    assert.equal(got[1]![1], true);
    assert.ok((got[1]![0] as Buffer).equals(big));
    assert.deepEqual(got[2], ['ab', false]);
    const closed = new Promise<number>((r) => (c.onClose = (code) => r(code)));
    c.close(1000);
    assert.equal(await closed, 1000);
  });
}
