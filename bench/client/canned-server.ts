// A canned-response HTTP/1.1 server on node:net: counts request heads (no bodies in the
// benchmark) and answers each with the same bytes. Prints "port N" when listening.
import * as net from 'node:net';

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello', 'latin1');
const CRLF2 = Buffer.from('\r\n\r\n');

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let tail = 0; // bytes of a possible "\r\n\r\n" split across reads
  let carry = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    const buf = tail > 0 ? Buffer.concat([carry, d]) : d;
    let n = 0;
    let i = buf.indexOf(CRLF2);
    let last = 0;
    while (i !== -1) {
      n++;
      last = i + 4;
      i = buf.indexOf(CRLF2, last);
    }
    const rest = buf.length - last;
    tail = rest > 3 ? 3 : rest;
    carry = tail > 0 ? Buffer.from(buf.subarray(buf.length - tail)) : carry;
    if (n === 1) socket.write(RESPONSE);
    else if (n > 1) socket.write(Buffer.concat(Array(n).fill(RESPONSE)));
  });
  socket.on('error', () => {});
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`port ${(server.address() as net.AddressInfo).port}`);
});
