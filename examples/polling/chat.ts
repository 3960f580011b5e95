// A long-polling chat room: each browser holds one poll open until a message arrives,
// then every waiting poll is answered at once. Mount it under a prefix:
//   const chat = createChat('/polling');  handler = (req) => chat(req) ?? other(req)
// Posts go through a pub/sub (in-process by default); give it a ClusterPubSub or a
// Redis one and every process serving the room sees every message.
import { readFileSync } from 'node:fs';
import { asChannel, type Channel, type Request, type Response } from '../../lib/index.ts';
import { LocalPubSub, type PubSub } from '../../lib/cluster.ts';

interface Message {
  id: number;
  at: number;
  name: string;
  text: string;
}

const HISTORY = 100;
const POLL_TIMEOUT = 25_000;
const page = readFileSync(new URL('./page.html', import.meta.url), 'utf8');

const json = (value: unknown, status = 200): Response => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(value),
});

export interface ChatOptions {
  /** Where posts are broadcast; every process subscribed to it shows them. Default: a new LocalPubSub. */
  pubsub?: PubSub;
}

/** The chat's handler: answers requests under `prefix`, returns null for anything else. */
export function createChat(prefix = '/polling', options: ChatOptions = {}): (req: Request) => Response | Channel | null {
  const messages: Message[] = [];
  const waiting = new Set<Channel>();
  let nextId = 1;
  const pubsub = options.pubsub ?? new LocalPubSub();
  let delivered: Message | null = null;
  // Ids are given on arrival: processes that see the same messages in the same order
  // (one pub/sub) give the same ids, so a poll may reach any of them.
  pubsub.subscribe('chat:' + prefix, (raw) => {
    let v: { at?: unknown; name?: unknown; text?: unknown };
    try {
      v = JSON.parse(raw) as typeof v;
    } catch {
      return;
    }
    delivered = arrive(String(v.name ?? ''), String(v.text ?? ''), Number(v.at) || Date.now());
  });

  function since(id: number): Message[] {
    return messages.filter((m) => m.id > id);
  }

  /** Publish a post; the message as stored here when the pub/sub delivers at once, else as sent. */
  function post(name: string, text: string): Omit<Message, 'id'> & { id?: number } {
    const sent = { at: Date.now(), name: name.slice(0, 40) || 'anonymous', text: text.slice(0, 500) };
    delivered = null;
    pubsub.publish('chat:' + prefix, JSON.stringify(sent));
    const m = delivered as Message | null;
    delivered = null;
    return m ?? sent;
  }

  function arrive(name: string, text: string, at: number): Message {
    const m: Message = { id: nextId++, at, name: name.slice(0, 40) || 'anonymous', text: text.slice(0, 500) };
    messages.push(m);
    if (messages.length > HISTORY) messages.shift();
    // Answer every waiting poll with the new message.
    const body = json([m]);
    for (const ch of waiting) ch.send(body);
    waiting.clear();
    return m;
  }

  return (req) => {
    if (req.uri !== prefix && !req.uri.startsWith(prefix + '/')) return null;
    const path = req.uri.slice(prefix.length) || '/';
    const method = req.requestMethod;
    if (path === '/' && method === 'get') {
      return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: page.replaceAll('{{prefix}}', prefix) };
    }
    if (path === '/poll' && method === 'get') {
      const params = new URLSearchParams(req.queryString ?? '');
      let after = Number(params.get('since') ?? 0) || 0;
      if (after >= nextId) after = 0; // the server restarted: send the history again
      const news = since(after);
      if (news.length > 0) return json(news);
      return asChannel(req, {
        timeout: POLL_TIMEOUT,
        timeoutResponse: json([]),
        onOpen: (ch) => waiting.add(ch),
        onClose: (ch) => waiting.delete(ch),
      });
    }
    if (path === '/send' && method === 'post') {
      let name = '';
      let text = '';
      const raw = req.body?.toString('utf8') ?? '';
      if ((req.contentType ?? '').startsWith('application/json')) {
        try {
          const v = JSON.parse(raw) as { name?: unknown; text?: unknown };
          name = String(v.name ?? '');
          text = String(v.text ?? '');
        } catch {
          return json({ error: 'invalid JSON' }, 400);
        }
      } else {
        const form = new URLSearchParams(raw);
        name = form.get('name') ?? '';
        text = form.get('text') ?? '';
      }
      if (text.trim() === '') return json({ error: 'empty message' }, 400);
      return json(post(name, text));
    }
    return json({ error: 'not found' }, 404);
  };
}
