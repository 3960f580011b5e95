// HTTP proxies: the Proxy-Authorization line from a proxy URL's userinfo, and the
// CONNECT tunnel that carries https: requests through the proxy.
import * as net from 'node:net';
import { ResponseParser } from '../parser/index.ts';
import type { ResponseHead } from '../parser/types.ts';
import { ClientError, ERR_PROXY } from './errors.ts';
import { connectHost, defaultPort } from './request.ts';

export function proxyAuthorization(proxy: URL): string {
  if (proxy.username === '' && proxy.password === '') return '';
  const pair = decodeURIComponent(proxy.username) + ':' + decodeURIComponent(proxy.password);
  return 'Proxy-Authorization: Basic ' + Buffer.from(pair, 'utf8').toString('base64') + '\r\n';
}

/**
 * Opens a TCP connection to `proxy` and asks it for a tunnel to `authority` (host:port).
 * Calls `done` once, with the raw socket ready for TLS or an error (ERR_PROXY for a refusal).
 * Returns the socket so the caller can destroy it (connect timeout).
 */
export function openTunnel(
  proxy: URL,
  authority: string,
  proxyAuth: string,
  done: (err: Error | null, socket: net.Socket | null) => void,
): net.Socket {
  const socket = net.connect({ host: connectHost(proxy), port: defaultPort(proxy) });
  let finished = false;
  let status = 0;
  const finish = (err: Error | null): void => {
    if (finished) return;
    finished = true;
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('error', finish);
    socket.removeListener('close', onEnd);
    if (err !== null) {
      socket.destroy();
      done(err, null);
    } else {
      // Errors now surface on the TLS socket layered on top; this one must not throw them.
      socket.on('error', () => {});
      done(null, socket);
    }
  };
  const parser = new ResponseParser({
    onHead(head: ResponseHead) {
      status = head.statusCode;
    },
    onBody() {},
    onComplete() {
      if (status >= 200 && status < 300) return;
      if (status >= 100 && status < 200) return;
      finish(new ClientError(ERR_PROXY, `proxy refused the tunnel to ${authority} with status ${status}`));
    },
  });
  parser.requestMethod = 'CONNECT';
  const onData = (buf: Buffer): void => {
    const n = parser.execute(buf);
    if (finished) return;
    if (parser.error) {
      finish(new ClientError(ERR_PROXY, `invalid response from proxy: ${parser.error.reason}`));
    } else if (parser.upgraded) {
      if (n < buf.length) finish(new ClientError(ERR_PROXY, 'proxy sent bytes after its CONNECT response'));
      else finish(null);
    }
  };
  const onEnd = (): void => finish(new ClientError(ERR_PROXY, 'proxy closed the connection during CONNECT'));
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  socket.on('error', finish);
  socket.once('connect', () => {
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${proxyAuth}\r\n`, 'latin1');
  });
  return socket;
}
