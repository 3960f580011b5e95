// Raw-socket test helpers: real bytes to a real server on 127.0.0.1, and the bytes back.
import { connect as netConnect, type Socket } from 'node:net';
import { parseResponses } from '../../../parser/index.ts';
import type { ResponseHead } from '../../../parser/index.ts';
import { runServer, type Server, type ServerOptions } from '../../../lib/index.ts';
import type { Handler } from '../../../lib/index.ts';

/** A client socket that records everything it receives. */
export class RawClient {
  readonly socket: Socket;
  private chunks: Buffer[] = [];
  private joined: Buffer | null = null;
  closed = false;
  /** The server sent FIN (or the socket closed). */
  ended = false;
  private waiters: Array<() => void> = [];

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.joined = null;
      if (this.waiters.length > 0) this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  /** Everything received so far. */
  get received(): Buffer {
    if (this.joined === null) {
      this.joined = Buffer.concat(this.chunks);
      this.chunks = [this.joined];
    }
    return this.joined;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** Resolves when `pred` holds for what was received; rejects after `timeout` ms. */
  waitFor(pred: (c: RawClient) => boolean, timeout = 3000, what = 'condition'): Promise<void> {
    if (pred(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.text.slice(0, 600))}`)), timeout);
      const check = (): void => {
        if (pred(this)) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Wait until `n` complete responses have arrived (parsed with the project's response parser). */
  async waitResponses(n: number, method = 'GET', timeout = 3000): Promise<ParsedResponse[]> {
    await this.waitFor((c) => responsesOf(c.received, method, false).length >= n, timeout, `${n} responses`);
    return responsesOf(this.received, method, false);
  }

  waitClose(timeout = 3000): Promise<void> {
    return this.waitFor((c) => c.closed, timeout, 'close');
  }

  waitEnd(timeout = 3000): Promise<void> {
    return this.waitFor((c) => c.ended, timeout, 'end');
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface ParsedResponse {
  status: number;
  /** Lower-cased header names; repeated ones joined with ", ". */
  headers: Record<string, string>;
  rawHeaders: string[];
  body: Buffer;
  head: ResponseHead;
}

/** Every complete response in `buf`; `eof` true when the connection has ended. */
export function responsesOf(buf: Buffer, method = 'GET', eof = true): ParsedResponse[] {
  const r = parseResponses(buf, method, undefined, eof);
  return r.messages.map((m) => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < m.head.rawHeaders.length; i += 2) {
      const k = m.head.rawHeaders[i]!.toLowerCase();
      headers[k] = headers[k] === undefined ? m.head.rawHeaders[i + 1]! : headers[k] + ', ' + m.head.rawHeaders[i + 1]!;
    }
    return { status: m.head.statusCode, headers, rawHeaders: m.head.rawHeaders, body: m.body, head: m.head };
  });
}

export function connectRaw(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host }, () => {
      s.off('error', reject);
      resolve(new RawClient(s));
    });
    s.once('error', reject);
  });
}

/** Send `data` on a new connection and collect the bytes until the server closes (or `timeout`). */
export async function sendRaw(port: number, data: string | Buffer, timeout = 3000): Promise<Buffer> {
  const c = await connectRaw(port);
  try {
    c.write(data);
    await c.waitEnd(timeout);
    return c.received;
  } finally {
    c.close();
  }
}

/** Run `fn` against a server on 127.0.0.1 with an ephemeral port; always stopped after. */
export async function withServer<T>(handler: Handler, options: ServerOptions, fn: (server: Server) => Promise<T>): Promise<T> {
  const server = await runServer(handler, { ip: '127.0.0.1', port: 0, ...options });
  try {
    return await fn(server);
  } finally {
    await server.stop({ timeout: 50 });
  }
}

export { sleep } from '../../helpers/wait.ts';

/** A GET request in HTTP/1.1 with a Host header. */
export function get(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
}
