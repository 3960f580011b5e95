// In-process parser throughput: httpkit's RequestParser vs llhttp (Node's own binding) and
// http-parser-js, same run, each fed the same 64-request pipelined buffer per call and
// each producing every string its caller receives (method, target, header names and values).
// Usage: npm run bench -- parser [--rounds N] [--ms N]
import { createRequire } from 'node:module';
import { RequestParser } from '../../parser/index.ts';
import type { RequestHead } from '../../parser/index.ts';

const require = createRequire(import.meta.url);

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROUNDS = arg('rounds', 7);
const MS = arg('ms', 300);
const PIPELINE = 64;

const browserGet =
  'GET /products/item/12345?ref=homepage&utm_source=newsletter HTTP/1.1\r\n' +
  'Host: www.example.com\r\n' +
  'Connection: keep-alive\r\n' +
  'Cache-Control: max-age=0\r\n' +
  'Upgrade-Insecure-Requests: 1\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n' +
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8\r\n' +
  'Sec-Fetch-Site: same-origin\r\n' +
  'Sec-Fetch-Mode: navigate\r\n' +
  'Sec-Fetch-Dest: document\r\n' +
  'Referer: https://www.example.com/products\r\n' +
  'Accept-Encoding: gzip, deflate, br\r\n' +
  'Accept-Language: en-US,en;q=0.9\r\n' +
  'Cookie: session_id=8f14e45fceea167a5a36dedd4bea2543; _ga=GA1.2.1234567890.1700000000; theme=dark\r\n' +
  '\r\n';

// A small pipelined burst: short API calls, one with a body.
const smallBurst = [
  'GET /api/items HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n',
  'GET /api/items/7 HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n',
  'POST /api/items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"name":"apple"}',
  'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n',
];

function pipelined(reqs: string[]): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < PIPELINE; i++) parts.push(reqs[i % reqs.length]);
  return Buffer.from(parts.join(''), 'latin1');
}

/** A parser under test: feeds one buffer, returns messages completed; `sink` accumulates string lengths it received. */
interface Contender {
  name: string;
  run(buf: Buffer): number;
  sink(): number;
}

function httpkit(): Contender {
  let messages = 0;
  let sink = 0;
  const parser = new RequestParser({
    onHead(head: RequestHead) {
      const h = head.rawHeaders;
      let n = head.method.length + head.target.length;
      for (let i = 0; i < h.length; i++) n += h[i].length;
      sink += n;
    },
    onBody(chunk: Buffer) {
      sink += chunk.length;
    },
    onComplete() {
      messages++;
    },
  });
  return {
    name: 'httpkit',
    run(buf) {
      messages = 0;
      if (parser.execute(buf) !== buf.length) throw new Error(`httpkit: ${parser.error}`);
      return messages;
    },
    sink: () => sink,
  };
}

type NodeStyleParser = {
  [key: number]: unknown;
  execute(buf: Buffer): number | Error;
  initialize?(...args: unknown[]): void;
};

function nodeStyle(name: string, HTTPParser: any, methods: string[], make: () => NodeStyleParser): Contender {
  let messages = 0;
  let sink = 0;
  const parser = make();
  parser[HTTPParser.kOnHeadersComplete] = function (
    _major: number, _minor: number, headers: string[], method: number | string, url: string,
  ) {
    const m = typeof method === 'number' ? methods[method] : method;
    let n = m.length + url.length;
    for (let i = 0; i < headers.length; i++) n += headers[i].length;
    sink += n;
    return 0;
  };
  parser[HTTPParser.kOnHeaders] = function () {
    throw new Error(`${name}: headers split across kOnHeaders; not expected for these requests`);
  };
  parser[HTTPParser.kOnBody] = function (chunk: Buffer, start?: number, len?: number) {
    sink += len ?? chunk.length;
  };
  parser[HTTPParser.kOnMessageComplete] = function () {
    messages++;
  };
  parser[HTTPParser.kOnExecute] = function () {};
  return {
    name,
    run(buf) {
      messages = 0;
      const r = parser.execute(buf);
      if (r instanceof Error || r !== buf.length) throw new Error(`${name}: ${r}`);
      return messages;
    },
    sink: () => sink,
  };
}

function llhttp(): Contender {
  const common = require('_http_common');
  const { HTTPParser } = common;
  return nodeStyle('llhttp', HTTPParser, common.methods, () => {
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, 0, 0);
    return p;
  });
}

function httpParserJs(): Contender | null {
  let mod: any;
  try {
    mod = require('http-parser-js');
  } catch {
    console.log('http-parser-js not installed (npm run bench installs bench/package.json); skipping it');
    return null;
  }
  const { HTTPParser } = mod;
  return nodeStyle('http-parser-js', HTTPParser, HTTPParser.methods, () => new HTTPParser(HTTPParser.REQUEST));
}

/**
 * Calls per second of this process's CPU time (user + system): other load on the shared
 * machine slows the wall clock of every contender differently from round to round, but
 * barely changes the CPU time a call costs.
 */
function callsPerSecond(c: Contender, buf: Buffer, ms: number): number {
  let calls = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  do {
    for (let i = 0; i < 20; i++) c.run(buf);
    calls += 20;
  } while (performance.now() - start < ms);
  const cpu = process.cpuUsage(cpu0);
  return (calls * 1e6) / (cpu.user + cpu.system);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function scenario(title: string, buf: Buffer, contenders: Contender[]): Map<string, number> {
  // Sanity: every parser sees all 64 requests and receives the same strings.
  const sinks = contenders.map((c) => {
    const before = c.sink();
    const n = c.run(buf);
    if (n !== PIPELINE) throw new Error(`${c.name}: parsed ${n} of ${PIPELINE} requests`);
    return c.sink() - before;
  });
  if (new Set(sinks).size !== 1) throw new Error(`parsers disagree on received bytes: ${sinks.join(', ')}`);
  for (const c of contenders) callsPerSecond(c, buf, MS); // warm-up
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order so no contender always runs right after another's garbage.
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(r + k) % contenders.length];
      samples.get(c.name)!.push(callsPerSecond(c, buf, MS) * PIPELINE);
    }
  }
  const result = new Map<string, number>();
  console.log(`\n${title}: ${buf.length} bytes per call, ${PIPELINE} requests (${(buf.length / PIPELINE).toFixed(0)} B each), median of ${ROUNDS} x ${MS} ms, per CPU-second`);
  for (const c of contenders) {
    const rps = median(samples.get(c.name)!);
    result.set(c.name, rps);
    console.log(`  ${c.name.padEnd(16)} ${(rps / 1e6).toFixed(3).padStart(7)} M req/s`);
  }
  const ours = result.get('httpkit')!;
  for (const c of contenders) {
    if (c.name !== 'httpkit') console.log(`  httpkit / ${c.name.padEnd(16)} ${(ours / result.get(c.name)!).toFixed(2)}x`);
  }
  return result;
}

const contenders = [httpkit(), llhttp(), httpParserJs()].filter((c): c is Contender => c !== null);
console.log(`node ${process.version}; parsers: ${contenders.map((c) => c.name).join(', ')}`);
scenario('browser GET (~700 B, 13 headers)', pipelined([browserGet]), contenders);
scenario('small pipelined burst (API calls)', pipelined(smallBurst), contenders);
