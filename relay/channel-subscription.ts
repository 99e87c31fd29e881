// One Redis channel a relay component listens on, over the relay's shared subscriber connection:
// the channel's messages go to `onMessage`; after a subscriber reconnect (messages may have been
// missed) `reconcile` re-checks what they would have changed. start() and close() are idempotent.
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';

export interface SubscriptionDeps {
  subscriber: Redis;
  channel: string;
  logger: Logger;
}

export interface ChannelListener {
  onMessage: (raw: string) => void;
  reconcile: () => Promise<void>;
}

export class ChannelSubscription {
  private started = false;

  /** `name` names the listener in the log line of a failed reconcile. */
  constructor(
    private readonly deps: SubscriptionDeps,
    private readonly name: string,
    private readonly listener: ChannelListener,
  ) {}

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.deps.subscriber.on('message', this.onMessage);
    await this.deps.subscriber.subscribe(this.deps.channel);
    // Registered after the first subscribe: every later 'ready' is a reconnect.
    this.deps.subscriber.on('ready', this.onReconnect);
  }

  async close(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.deps.subscriber.off('message', this.onMessage);
    this.deps.subscriber.off('ready', this.onReconnect);
    await this.deps.subscriber.unsubscribe(this.deps.channel).catch(() => undefined);
  }

  private readonly onMessage = (channel: string, raw: string): void => {
    if (channel === this.deps.channel) this.listener.onMessage(raw);
  };

  private readonly onReconnect = (): void => {
    void this.listener.reconcile().catch((err: unknown) => this.deps.logger.error({ err }, `${this.name} reconcile failed`));
  };
}
