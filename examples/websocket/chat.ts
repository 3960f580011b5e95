// A WebSocket chat room: every browser keeps one WebSocket open; each message is sent
// to all of them. Mount it under a prefix:
//   const chat = createWsChat('/ws-chat');  handler = (req) => chat(req) ?? other(req)
// The page is at `<prefix>/`, the socket at `<prefix>/socket`. Messages go through a
// pub/sub (in-process by default); give it a ClusterPubSub or a Redis one and the
// room spans every process subscribed to it. Presence stays per process.
import { readFileSync } from 'node:fs';
import { asChannel, type Channel, type Request, type Response, type WebSocketChannel } from '../../lib/index.ts';
import { LocalPubSub, type PubSub } from '../../lib/cluster.ts';

interface ChatMessage {
  type: 'message';
  at: number;
  name: string;
  text: string;
}

const HISTORY = 50;
/** A client that lets this much pile up unread is too slow for the room. */
const MAX_BUFFERED = 1024 * 1024;
const page = readFileSync(new URL('./page.html', import.meta.url), 'utf8');

export interface WsChatOptions {
  /** Where messages are broadcast; every process subscribed to it relays them to its sockets. Default: a new LocalPubSub. */
  pubsub?: PubSub;
}

/** The chat's handler: answers requests under `prefix`, returns null for anything else. */
export function createWsChat(prefix = '/ws-chat', options: WsChatOptions = {}): (req: Request) => Response | Channel | null {
  const room = new Set<WebSocketChannel>();
  const history: string[] = [];
  const pubsub = options.pubsub ?? new LocalPubSub();
  pubsub.subscribe('ws-chat:' + prefix, (json) => {
    history.push(json);
    if (history.length > HISTORY) history.shift();
    broadcast(json);
  });

  function broadcast(json: string): void {
    for (const ch of room) {
      if (!ch.send(json) && ch.bufferedAmount > MAX_BUFFERED) ch.close(1013, 'too slow');
    }
  }

  function presence(text: string): void {
    broadcast(JSON.stringify({ type: 'presence', at: Date.now(), text, online: room.size }));
  }

  return (req) => {
    if (req.uri !== prefix && !req.uri.startsWith(prefix + '/')) return null;
    const path = req.uri.slice(prefix.length) || '/';
    if (path === '/' && req.requestMethod === 'get') {
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: page.replaceAll('{{prefix}}', prefix) };
    }
    if (path !== '/socket') return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found\n' };
    if (!req.isWebSocket) return { status: 426, headers: { upgrade: 'websocket', 'content-type': 'text/plain' }, body: 'WebSocket only\n' };
    return asChannel(req, {
      maxMessageSize: 4096,
      perMessageDeflate: true,
      heartbeatInterval: 30_000,
      // Browsers send Origin: only pages from this host may talk to the room.
      verifyOrigin: (origin, r) => origin === undefined || sameHost(origin, r.headers.host),
      onOpen(ch) {
        const ws = ch as WebSocketChannel;
        for (const m of history) ws.send(m);
        room.add(ws);
        presence('someone joined');
      },
      onReceive(ch, data) {
        if (typeof data !== 'string') return void ch.close(1003, 'text only');
        let name = '';
        let text = '';
        try {
          const v = JSON.parse(data) as { name?: unknown; text?: unknown };
          name = String(v.name ?? '').trim().slice(0, 40);
          text = String(v.text ?? '').slice(0, 500);
        } catch {
          return void ch.close(1007, 'JSON expected');
        }
        if (text.trim() === '') return;
        const m: ChatMessage = { type: 'message', at: Date.now(), name: name || 'anonymous', text };
        pubsub.publish('ws-chat:' + prefix, JSON.stringify(m));
      },
      onClose(ch) {
        if (room.delete(ch as WebSocketChannel)) presence('someone left');
      },
    });
  };
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The chat mounted at /ws-chat. */
export const chatHandler = createWsChat('/ws-chat');
