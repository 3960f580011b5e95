// A small pub/sub interface for broadcasting between the connections of a room
// (chat messages, notifications) wherever those connections live: one process
// (LocalPubSub), the workers of `workers: n` (ClusterPubSub, relayed by the
// primary), or many machines (a Redis implementation, see examples/redis-pubsub/).
import { cluster } from './builtins.ts';

export type PubSubListener = (message: string) => void;

/**
 * Publish strings on named topics; every subscriber of the topic, in every process
 * sharing the implementation, gets each message once, the publisher's own
 * subscribers included. Implementations deliver in publish order per publisher.
 */
export interface PubSub {
  publish(topic: string, message: string): void;
  /** Returns the function that unsubscribes. */
  subscribe(topic: string, listener: PubSubListener): () => void;
  /** Release connections or listeners held by the implementation. */
  close(): Promise<void>;
}

/** Subscribers by topic, and delivery to them: the part every implementation shares. */
export class Topics {
  readonly #byTopic = new Map<string, Set<PubSubListener>>();

  add(topic: string, listener: PubSubListener): () => void {
    let set = this.#byTopic.get(topic);
    if (set === undefined) this.#byTopic.set(topic, (set = new Set()));
    // Wrapped so that one function subscribed twice is called twice and unsubscribes once.
    const entry: PubSubListener = (m) => listener(m);
    set.add(entry);
    return () => {
      const s = this.#byTopic.get(topic);
      if (s === undefined || !s.delete(entry)) return;
      if (s.size === 0) this.#byTopic.delete(topic);
    };
  }

  has(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  /** Call each listener of `topic`; one that throws does not stop the others. */
  deliver(topic: string, message: string): void {
    const set = this.#byTopic.get(topic);
    if (set === undefined) return;
    for (const l of [...set]) {
      try {
        l(message);
      } catch (err) {
        console.error('httpkit: pub/sub listener failed:', err);
      }
    }
  }

  clear(): void {
    this.#byTopic.clear();
  }
}

/** One process: publish() calls the subscribers at once, before it returns. */
export class LocalPubSub implements PubSub {
  readonly #topics = new Topics();

  publish(topic: string, message: string): void {
    this.#topics.deliver(topic, message);
  }

  subscribe(topic: string, listener: PubSubListener): () => void {
    return this.#topics.add(topic, listener);
  }

  close(): Promise<void> {
    this.#topics.clear();
    return Promise.resolve();
  }
}

/** Key of the IPC messages the cluster implementation exchanges. */
const KEY = 'httpkit:pubsub';

interface Envelope {
  [KEY]: [topic: string, message: string];
}

function isEnvelope(m: unknown): m is Envelope {
  if (typeof m !== 'object' || m === null || !(KEY in m)) return false;
  const v = (m as Record<string, unknown>)[KEY];
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string';
}

/**
 * The workers of one node:cluster: a worker's publish() goes to the primary over
 * IPC, which sends it to every worker (the publisher included), so all processes
 * see the messages of one publisher in order. Used outside a worker it behaves like
 * LocalPubSub. Needs the primary to relay: runServer({ workers }) does, or call
 * relayPubSub() in a primary of your own.
 */
export class ClusterPubSub implements PubSub {
  readonly #topics = new Topics();
  readonly #onMessage = (m: unknown): void => {
    if (isEnvelope(m)) this.#topics.deliver(m[KEY][0], m[KEY][1]);
  };

  constructor() {
    if (cluster().isWorker) process.on('message', this.#onMessage);
  }

  publish(topic: string, message: string): void {
    if (!cluster().isWorker || process.send === undefined || !process.connected) {
      this.#topics.deliver(topic, message);
      return;
    }
    const env: Envelope = { [KEY]: [topic, message] };
    process.send(env);
  }

  subscribe(topic: string, listener: PubSubListener): () => void {
    return this.#topics.add(topic, listener);
  }

  close(): Promise<void> {
    process.off('message', this.#onMessage);
    this.#topics.clear();
    return Promise.resolve();
  }
}

let relaying = false;

/** In a cluster primary: pass pub/sub messages from any worker to all workers. Idempotent. */
export function relayPubSub(): void {
  if (relaying || !cluster().isPrimary) return;
  relaying = true;
  cluster().on('message', (_from, m: unknown) => {
    if (!isEnvelope(m)) return;
    for (const w of Object.values(cluster().workers ?? {})) {
      if (w !== undefined && w.isConnected()) w.send(m);
    }
  });
}

/** ClusterPubSub inside a node:cluster worker, LocalPubSub elsewhere. */
export function processPubSub(): PubSub {
  return cluster().isWorker ? new ClusterPubSub() : new LocalPubSub();
}
