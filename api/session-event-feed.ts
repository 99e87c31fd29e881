// One Redis subscription to the session events channel per api process, fanned out in memory to
// every listener (the console's event streams). It must not open a connection per listener: a
// hundred watching browsers share the one subscriber.
import type { Redis } from 'ioredis';
import { describeError } from '../shared/errors.js';
import { parseSessionEvent, type SessionEventMessage } from '../shared/store/session-events.js';

export type SessionEventListener = (event: SessionEventMessage) => void;

export interface SessionEventFeedDeps {
  /** Opens the subscriber connection (a duplicate of the api's client); called once, on first use. */
  connect: () => Redis;
  /** The events channel (redisKeys(prefix).events). */
  channel: string;
  logger: { warn(obj: object, msg: string): void };
}

export class SessionEventFeed {
  private readonly listeners = new Set<SessionEventListener>();
  private subscriber: Redis | undefined;
  private ready: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly deps: SessionEventFeedDeps) {}

  /**
   * Adds a listener and resolves once the channel is subscribed, so a caller that answers its
   * client only after this resolves misses no transition published after the answer.
   */
  async subscribe(listener: SessionEventListener): Promise<() => void> {
    if (this.closed) throw new Error('session event feed is closed');
    this.listeners.add(listener);
    try {
      await this.start();
    } catch (err) {
      this.listeners.delete(listener);
      throw err;
    }
    return () => void this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private start(): Promise<void> {
    this.ready ??= (async () => {
      const sub = this.deps.connect();
      this.subscriber = sub;
      sub.on('error', (err) => this.deps.logger.warn({ err: describeError(err) }, 'session event subscriber error'));
      sub.on('message', (channel: string, raw: string) => {
        if (channel !== this.deps.channel) return;
        // Redis data is untrusted: a message that does not parse reaches no one.
        const event = parseSessionEvent(raw);
        if (!event) return;
        for (const listener of [...this.listeners]) {
          try {
            listener(event);
          } catch (err) {
            this.deps.logger.warn({ err: describeError(err) }, 'session event listener failed');
          }
        }
      });
      await sub.subscribe(this.deps.channel);
    })();
    // A failed first subscribe is retried by the next caller rather than cached forever.
    this.ready.catch(() => {
      this.ready = undefined;
      this.subscriber?.disconnect();
      this.subscriber = undefined;
    });
    return this.ready;
  }

  /** Idempotent: drops every listener and closes the subscriber connection if one was opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }
}
