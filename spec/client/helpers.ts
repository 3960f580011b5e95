// Raw node:net test servers that read requests loosely and answer with exact bytes.
import * as net from 'node:net';

export interface RawRequest {
  head: string;
  method: string;
  target: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Index of the connection (0-based, in accept order) that carried it. */
  conn: number;
  socket: net.Socket;
}

export interface RawServer {
  port: number;
  url: string;
  requests: RawRequest[];
  /** Connections accepted so far. */
  connections: number;
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

function parseHead(head: string): { method: string; target: string; headers: Record<string, string> } {
  const lines = head.split('\r\n');
  const [method = '', target = ''] = lines[0]!.split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    const name = line.slice(0, i).toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : headers[name] + ', ' + value;
  }
  return { method, target, headers };
}

/**
 * Starts a server on 127.0.0.1 (or `host`). `onRequest` gets each request once its
 * body (Content-Length or chunked) has arrived and writes whatever bytes it likes.
 */
export function rawServer(
  onRequest: (req: RawRequest, socket: net.Socket) => void,
  host = '127.0.0.1',
  onConnection?: (socket: net.Socket) => void,
): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const state: RawServer = {
    port: 0,
    url: '',
    requests: [],
    connections: 0,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    const conn = state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection?.(socket);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.toString('latin1', 0, end);
        const parsed = parseHead(head);
        let rest = buf.subarray(end + 4);
        let body: Buffer;
        if (parsed.headers['transfer-encoding']?.includes('chunked')) {
          const parts: Buffer[] = [];
          let p = 0;
          let complete = false;
          for (;;) {
            const le = rest.indexOf('\r\n', p);
            if (le === -1) break;
            const size = parseInt(rest.toString('latin1', p, le), 16);
            if (size === 0) {
              const te = rest.indexOf('\r\n', le + 2);
              if (te === -1) break;
              p = te + 2;
              complete = true;
              break;
            }
            if (rest.length < le + 2 + size + 2) break;
            parts.push(rest.subarray(le + 2, le + 2 + size));
            p = le + 2 + size + 2;
          }
          if (!complete) return;
          body = Buffer.concat(parts);
          rest = rest.subarray(p);
        } else {
          const cl = Number(parsed.headers['content-length'] ?? 0);
          if (rest.length < cl) return;
          body = Buffer.from(rest.subarray(0, cl));
          rest = rest.subarray(cl);
        }
        buf = Buffer.from(rest);
        const req: RawRequest = { head, ...parsed, body, conn, socket };
        state.requests.push(req);
        onRequest(req, socket);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, host, () => {
      state.port = (server.address() as net.AddressInfo).port;
      state.url = `http://${host.includes(':') ? '[' + host + ']' : host}:${state.port}`;
      resolve(state);
    });
  });
}

/** A response with Content-Length. */
export function ok(body: string | Buffer = 'ok', extra = ''): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${extra}Content-Length: ${b.length}\r\n\r\n`, 'latin1'), b]);
}

export { sleep } from '../helpers/wait.ts';

/** Per-test bound: a hung request fails its test instead of hanging the run. */
export const T = { timeout: 30_000 };
