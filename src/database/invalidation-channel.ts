import { randomUUID } from 'node:crypto';
import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { DatabaseTls } from '#src/config/database-tls.js';
import { BoundedCache, type BoundedCacheOptions } from '#src/common/bounded-cache.js';
import { InvalidationConfirmations } from './invalidation-confirmations.js';

/** The channel the database triggers announce changes on (see the AuthInvalidation migration). */
export const INVALIDATION_CHANNEL = 'auth_invalidate';
/** How the dedicated listening connection names itself in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'otp-service-invalidation';
const PROBE = 'probe:';
/** `ack:<transaction id>`, sent by a listener once it has applied that transaction's notices. */
const ACK = 'ack:';
/** How long the writing instance waits for the others' acknowledgements. */
const CONFIRM_TIMEOUT_MS = 1000;
/** How long a delivery probe may take before the channel is judged deaf. */
const PROBE_TIMEOUT_MS = 2000;
/** The first retry after a loss: the caches stay bypassed at least this long. */
const RECONNECT_MIN_MS = 1000;
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
 * Immediate on every instance: every pool connection LISTENs as well (`onConnect`), and a
 * connection hears its own transaction's notices before its COMMIT answers, so the writing
 * instance has dropped its entries before it goes on. The other instances' listeners acknowledge
 * each transaction's notices once applied (`ack:<transaction>`), and the writing instance holds
 * its answers (`afterConfirmed`) until every listener in pg_stat_activity has; one silent for a
 * second is ended, so its instance bypasses its caches. A client that saw the answer therefore
 * finds the change on any instance.
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
  private readonly confirmations = new InvalidationConfirmations(
    {
      otherListeners: async () => {
        const { rows } = await this.liveListener().query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity
            WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()`,
          [LISTENER_APPLICATION_NAME],
        );
        return rows.map((row) => row.pid);
      },
      terminate: async (pids) => {
        await this.liveListener().query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
      },
      onUnconfirmed: (pids) =>
        this.logger.warn(`no acknowledgement from listener(s) ${pids.join(', ')}: ending them so they bypass caches`),
    },
    CONFIRM_TIMEOUT_MS,
  );
  /** Transactions whose notices this listener applied and has yet to acknowledge. */
  private toAcknowledge = new Set<string>();
  /** The listening connection's backend process id, while connected. */
  listenerPid?: number;
  private markAttempted!: () => void;
  /** Settles once the first attempt to listen has ended, live or not. */
  readonly attempted = new Promise<void>((resolve) => (this.markAttempted = resolve));

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
    client.on('notification', (message: pg.Notification) => {
      const notice = this.apply(message);
      // Its own transaction's notice: this instance changed something the others cache.
      const own = message.processId === (client as pg.ClientBase & { processID?: number }).processID;
      if (notice && own && this.isLive && !this.settings.exclusive) this.confirmations.expect(notice.transaction);
    });
    await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
  };

  /**
   * Calls `callback` once the other instances have acknowledged every invalidation this one made
   * so far: at once (synchronously) when there is none under way. Answers wait on it.
   */
  afterConfirmed(callback: () => void): void {
    this.confirmations.afterConfirmed(callback);
  }

  onApplicationBootstrap(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.setLive(false);
    this.confirmations.releaseAll();
    const listener = this.listener;
    this.listener = undefined;
    await Promise.all([listener?.end().catch(() => undefined), this.probe?.sender.end().catch(() => undefined)]);
  }

  /** Drops the entries a notice names; answers it, unless it was a probe or an acknowledgement. */
  private apply(message: pg.Notification): { topic: string; transaction: string } | undefined {
    const payload = message.payload;
    if (message.channel !== INVALIDATION_CHANNEL || !payload) return undefined;
    if (payload.startsWith(PROBE) || payload.startsWith(ACK)) return undefined;
    const at = payload.lastIndexOf('@');
    const notice =
      at < 0
        ? { topic: payload, transaction: '' }
        : { topic: payload.slice(0, at), transaction: payload.slice(at + 1) };
    for (const subscriber of this.subscribers) subscriber.invalidate(notice.topic);
    return notice;
  }

  /** The dedicated listener: applies and acknowledges notices, hears probes and acknowledgements. */
  private listenerNotice(client: pg.Client, message: pg.Notification): void {
    const payload = message.payload ?? '';
    if (payload.startsWith(PROBE)) {
      if (this.probe?.payload === payload) this.probe.heard();
      return;
    }
    if (payload.startsWith(ACK)) {
      this.confirmations.acknowledged(payload.slice(ACK.length), message.processId);
      return;
    }
    const notice = this.apply(message);
    if (!notice?.transaction) return;
    if (this.toAcknowledge.size === 0) setImmediate(() => this.acknowledge(client));
    this.toAcknowledge.add(notice.transaction);
  }

  /** One statement acknowledges every transaction applied since the last. */
  private acknowledge(client: pg.Client): void {
    const transactions = [...this.toAcknowledge];
    this.toAcknowledge = new Set();
    if (client !== this.listener) return;
    void client
      .query(`SELECT pg_notify($1, $2 || t) FROM unnest($3::text[]) AS t`, [INVALIDATION_CHANNEL, ACK, transactions])
      .catch(() => undefined);
  }

  private liveListener(): pg.Client {
    if (!this.listener || !this.isLive) throw new Error('invalidation listener not live');
    return this.listener;
  }

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
      // Acknowledgements can no longer be heard.
      this.confirmations.releaseAll();
      if (this.stopped) return;
      if (error && wasLive) {
        this.logger.warn(`invalidation listener lost (${error.message}): authentication caches bypassed`);
      }
      void client.end().catch(() => undefined);
      this.scheduleReconnect(retryInMs);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message: pg.Notification) => this.listenerNotice(client, message));
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
    // Heard by the sender itself: one backend serves every connection (Postgres never delivers to
    // a connection that does not listen), so the listener will not hear it.
    const heardBySender = new Promise<boolean>((resolve) =>
      sender.on('notification', (message) => message.payload === payload && resolve(false)),
    );
    try {
      await sender.connect();
      await sender.query('SELECT pg_notify($1, $2)', [INVALIDATION_CHANNEL, payload]);
      return await Promise.race([heard, heardBySender]);
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
    this.markAttempted();
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
