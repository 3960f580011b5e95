// Python's `websockets` (Debian python3-websockets) as an independent WebSocket peer.
// Scripts print one JSON object per line; runPython collects them until exit.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { skipWithout } from './tools.ts';

// HTTPKIT_PYTHON points at another interpreter that has `websockets` (default: Debian's).
export const PY = process.env.HTTPKIT_PYTHON ?? '/usr/bin/python3';

function pythonWsVersion(): string | null {
  const r = spawnSync(PY, ['-c', 'import websockets; print(websockets.__version__)'], { encoding: 'utf8', timeout: 10000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The `websockets` version, or null when PY cannot import it. */
export const pyWsVersion = pythonWsVersion();
/** For a test's `skip` option (false in CI, where the test then fails on pyWsVersion). */
export const skipWithoutPython = skipWithout(pyWsVersion, `python3-websockets (${PY})`);

/** The body of the "peer is available" test: a usable `websockets` (10 or newer). */
export function assertPythonPeer(): void {
  assert.ok(pyWsVersion, `CI=true requires ${PY} with the websockets package (Debian python3-websockets)`);
  assert.ok(Number(pyWsVersion.split('.')[0]) >= 10, `websockets ${pyWsVersion}`);
}

const children: ChildProcess[] = [];

/** Spawn PY with `args`, remembered so killPythons() can end it. */
export function spawnPython(args: string[]): ChildProcess {
  const child = spawn(PY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** For `after`: kill every Python process this file started. */
export function killPythons(): void {
  for (const c of children) c.kill('SIGKILL');
}

export type Line = Record<string, unknown>;

/** Run a Python script and collect its JSON lines until it exits (bounded by a timer). */
export function runPython(args: string[], timeoutMs = 15000): Promise<{ lines: Line[]; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnPython(args);
    const lines: Line[] = [];
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ lines, code, stderr });
    });
  });
}

/**
 * The checks shared by both Python echo clients (spec/websocket/fixtures/py_client.py and
 * the channel test's own): clean exit, the negotiated extension, seven echoes (text,
 * text, binary, text, binary, fragmented text, fragmented binary) returned intact, and
 * a pong for the client's ping. Returns the `open` line for further checks.
 */
export function assertEchoRun(r: { lines: Line[]; code: number | null; stderr: string }, deflate: boolean): Line {
  assert.equal(r.code, 0, r.stderr);
  const open = r.lines.find((l) => l.event === 'open')!;
  if (deflate) assert.match(String(open.extensions), /^permessage-deflate/);
  else assert.equal(open.extensions, '');
  const echoes = r.lines.filter((l) => l.event === 'echo');
  assert.equal(echoes.length, 7);
  for (const e of echoes) assert.equal(e.ok, true, JSON.stringify(e));
  assert.deepEqual(echoes.map((e) => e.binary), [false, false, true, false, true, false, true]);
  assert.ok(r.lines.some((l) => l.event === 'pong'), 'our server answered the python ping');
  return open;
}
