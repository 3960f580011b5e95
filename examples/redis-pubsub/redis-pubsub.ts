// The PubSub interface on Redis pub/sub, so several servers (processes or machines)
// share the chat rooms. Uses the `redis` npm client from this folder's package.json;
// the library itself stays free of dependencies.
//   const pubsub = await RedisPubSub.connect('redis://127.0.0.1:6379');
//   const chat = createChat('/polling', { pubsub });
// A Redis connection in subscriber mode can do nothing else, so there are two: one to
// publish, one to subscribe. Every server, the publisher included, gets each message
// back from Redis, so all of them see the messages in the same order.
import { Topics, type PubSub, type PubSubListener } from '../../lib/cluster.ts';

/** The part of the `redis` client used here. */
interface RedisClient {
  connect(): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  duplicate(): RedisClient;
  on(event: 'error', listener: (err: Error) => void): unknown;
  close?(): Promise<void>;
  quit?(): Promise<unknown>;
}

interface RedisModule {
  createClient(options: { url: string }): RedisClient;
}

export class RedisPubSub implements PubSub {
  readonly #pub: RedisClient;
  readonly #sub: RedisClient;
  readonly #topics = new Topics();
  /** Channels subscribed on Redis (one Redis subscription per topic, however many local listeners). */
  readonly #channels = new Map<string, Promise<void>>();
  readonly #prefix: string;
  #closed = false;

  private constructor(pub: RedisClient, sub: RedisClient, prefix: string) {
    this.#pub = pub;
    this.#sub = sub;
    this.#prefix = prefix;
  }

  /** Connect both connections; `prefix` namespaces the Redis channels (default 'httpkit:'). */
  static async connect(url: string, prefix = 'httpkit:'): Promise<RedisPubSub> {
    // Named through a variable so the library's type check does not need this folder's
    // node_modules; RedisClient above types what is used.
    const name = 'redis';
    const { createClient } = (await import(name)) as RedisModule;
    const pub = createClient({ url });
    const sub = pub.duplicate();
    // The client reconnects by itself; errors meanwhile are reported, not thrown.
    for (const c of [pub, sub]) c.on('error', (err) => console.error('redis pub/sub:', err.message));
    await Promise.all([pub.connect(), sub.connect()]);
    return new RedisPubSub(pub, sub, prefix);
  }

  publish(topic: string, message: string): void {
    if (this.#closed) return;
    this.#pub.publish(this.#prefix + topic, message).catch((err: Error) => console.error('redis publish failed:', err.message));
  }

  subscribe(topic: string, listener: PubSubListener): () => void {
    const off = this.#topics.add(topic, listener);
    if (!this.#channels.has(topic)) {
      const ready = this.#sub.subscribe(this.#prefix + topic, (message) => this.#topics.deliver(topic, message));
      ready.catch((err: Error) => console.error('redis subscribe failed:', err.message));
      this.#channels.set(topic, ready);
    }
    return () => {
      off();
      if (!this.#topics.has(topic) && this.#channels.delete(topic) && !this.#closed) {
        this.#sub.unsubscribe(this.#prefix + topic).catch(() => {});
      }
    };
  }

  /** Resolves once Redis has confirmed every subscription made so far. */
  async ready(): Promise<void> {
    await Promise.all(this.#channels.values());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#topics.clear();
    this.#channels.clear();
    await Promise.all([this.#pub, this.#sub].map((c) => (c.close ? c.close() : c.quit?.())));
  }
}
