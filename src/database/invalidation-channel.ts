import { randomUUID } from 'node:crypto';
import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { DatabaseTls } from '#src/config/database-tls.js';
import { BoundedCache, type BoundedCacheOptions } from '#src/common/bounded-cache.js';

/** The channel the database triggers announce changes on (see the AuthInvalidation migration). */
export const INVALIDATION_CHANNEL = 'auth_invalidate';
/** How the dedicated listening connection names itself in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'otp-service-invalidation';
const PROBE = 'probe:';
/** How long a delivery probe may take before the channel is judged deaf. */
const PROBE_TIMEOUT_MS = 2000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;
const UNDELIVERED_RETRY_MS = 60_000;

export interface InvalidationChannelSettings {
  url: string;
  ssl: DatabaseTls;
  /**
   * The database is this process's own (the embedded one it started, behind its lock file):
   * every change is made through this process's connections, which hear their own notices,
   * so delivery to another connection need not be proven.
   */
  exclusive: boolean;
}

interface Subscriber {
  invalidate(topic: string): void;
  reset(): void;
}

/**
 * Hears the database's invalidation notices and tells the caches. Caches may serve only while
 * the channel is live: a dedicated connection LISTENs and has been proven to receive a notice
 * sent from another connection. When that connection drops, every cache is emptied and bypassed
 * until it listens again.
 *
 * Every pool connection LISTENs as well (`onConnect`): a connection hears its own transaction's
 * notices before the COMMIT answers, so the instance that makes a change has dropped the entries
 * before the request that made it answers. Other instances drop them when their connections
 * deliver the notice, which Postgres sends at commit, before the writer's COMMIT returns.
 */
export class InvalidationChannel implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InvalidationChannel.name);
  private readonly subscribers = new Set<Subscriber>();
  private listener?: pg.Client;
  private isLive = false;
  private stopped = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer?: NodeJS.Timeout;
  private probe?: { payload: string; heard: () => void; sender: pg.Client };
  private readonly changeWaiters = new Set<() => void>();
  private warnedUndelivered = false;
  /** The listening connection's backend process id, while connected. */
  listenerPid?: number;

  constructor(private readonly settings: InvalidationChannelSettings) {}

  /** Whether caches may serve entries now. */
  get live(): boolean {
    return this.isLive;
  }

  /** Answers when `live` becomes `want` (or at once if it is), or rejects after `timeoutMs`. */
  async whenLive(want: boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.isLive !== want) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`invalidation channel: not ${want ? 'live' : 'deaf'} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        timer.unref();
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.changeWaiters.add(done);
      });
    }
  }

  /** A cache that drops entries on this channel's notices and serves only while it is live. */
  cache<V>(options: BoundedCacheOptions): InvalidatedCache<V> {
    const cache = new InvalidatedCache<V>(new BoundedCache<V>(options), this);
    this.subscribers.add({ invalidate: (topic) => cache.inner.invalidateTag(topic), reset: () => cache.inner.clear() });
    return cache;
  }

  /** The pool's hook for each new connection (pg-pool `onConnect`). */
  readonly onConnect = async (client: pg.ClientBase): Promise<void> => {
    client.on('notification', this.deliver);
    await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
  };

  onApplicationBootstrap(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.setLive(false);
    const listener = this.listener;
    this.listener = undefined;
    await Promise.all([listener?.end().catch(() => undefined), this.probe?.sender.end().catch(() => undefined)]);
  }

  private readonly deliver = (message: pg.Notification): void => {
    if (message.channel !== INVALIDATION_CHANNEL || !message.payload) return;
    if (message.payload.startsWith(PROBE)) {
      if (this.probe?.payload === message.payload) this.probe.heard();
      return;
    }
    for (const subscriber of this.subscribers) subscriber.invalidate(message.payload);
  };

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.settings.url,
      ssl: this.settings.ssl,
      keepAlive: true,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: 5000,
    });
    this.listener = client;
    let lost = false;
    const onLost = (error?: Error, retryInMs?: number): void => {
      if (lost) return;
      lost = true;
      const wasLive = this.isLive;
      client.removeAllListeners('notification');
      if (this.listener === client) this.listener = undefined;
      this.listenerPid = undefined;
      this.setLive(false);
      if (this.stopped) return;
      if (error && wasLive) {
        this.logger.warn(`invalidation listener lost (${error.message}): authentication caches bypassed`);
      }
      void client.end().catch(() => undefined);
      this.scheduleReconnect(retryInMs);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', this.deliver);
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
      const [row] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
      if (lost) return;
      this.listenerPid = row.pid;
      if (!this.settings.exclusive && !(await this.deliveredFromAnotherConnection())) {
        if (!this.warnedUndelivered) {
          this.warnedUndelivered = true;
          this.logger.warn('the database does not deliver notices between connections: authentication caches are off');
        }
        // Not a passing fault: ask again rarely.
        onLost(undefined, UNDELIVERED_RETRY_MS);
        return;
      }
      if (lost) return;
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.setLive(true);
    } catch (error) {
      onLost(error as Error);
    }
  }

  /**
   * Sends a notice from a second connection and waits for the listener to hear it: Postgres
   * delivers to every listening connection, but a database served to several connections by one
   * backend (the embedded PGlite behind its socket) delivers only to the sender.
   */
  private async deliveredFromAnotherConnection(): Promise<boolean> {
    const payload = `${PROBE}${randomUUID()}`;
    const sender = new pg.Client({ connectionString: this.settings.url, ssl: this.settings.ssl });
    const heard = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
      timer.unref();
      this.probe = {
        payload,
        sender,
        heard: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
    });
    try {
      await sender.connect();
      await sender.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, payload]);
      return await heard;
    } catch {
      return false;
    } finally {
      this.probe = undefined;
      await sender.end().catch(() => undefined);
    }
  }

  /** Tries again after `delayMs`, else after a delay that doubles up to RECONNECT_MAX_MS. */
  private scheduleReconnect(delayMs?: number): void {
    clearTimeout(this.reconnectTimer);
    const delay = delayMs ?? this.reconnectDelay;
    if (delayMs === undefined) this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  /** Going deaf and going live both empty the caches: nothing heard while deaf may be trusted. */
  private setLive(live: boolean): void {
    for (const subscriber of this.subscribers) subscriber.reset();
    if (this.isLive === live) return;
    this.isLive = live;
    for (const waiter of [...this.changeWaiters]) waiter();
    this.changeWaiters.clear();
  }
}

/** A BoundedCache that serves and stores only while its invalidation channel is live. */
export class InvalidatedCache<V> {
  constructor(
    readonly inner: BoundedCache<V>,
    private readonly channel: InvalidationChannel,
  ) {}

  ticket(): number {
    return this.inner.ticket();
  }

  get(key: string): V | undefined {
    return this.channel.live ? this.inner.get(key) : undefined;
  }

  set(key: string, value: V, tags: readonly string[], ticket: number): void {
    if (this.channel.live) this.inner.set(key, value, tags, ticket);
  }
}
