/** What the confirmations need of the database, through the instance's listening connection. */
export interface ConfirmationPeers {
  /** Backend ids of the other instances' listening connections. */
  otherListeners(): Promise<number[]>;
  /** Ends listening connections that did not confirm: their instance goes deaf and bypasses its caches. */
  terminate(pids: number[]): Promise<void>;
  onUnconfirmed(pids: number[]): void;
}

/** Early acknowledgements kept (most are of other instances' transactions, never awaited here). */
const EARLY_KEPT = 1000;

interface Pending {
  acknowledged: Set<number>;
  expected?: Set<number>;
  settle: () => void;
  done: Promise<void>;
}

/**
 * The writing instance's wait for the others: a transaction of this instance announced an
 * invalidation; its answer leaves only when every other instance's listener has acknowledged
 * that transaction (so has dropped the entries), or after `timeoutMs`, when the listeners that
 * did not are ended and their instances bypass their caches until they listen again.
 */
export class InvalidationConfirmations {
  private readonly pending = new Map<string, Pending>();
  /** Acknowledgements heard before this instance saw its own notice (another socket was read first). */
  private readonly early = new Map<string, Set<number>>();

  constructor(
    private readonly peers: ConfirmationPeers,
    private readonly timeoutMs: number,
  ) {}

  get outstanding(): number {
    return this.pending.size;
  }

  /** A transaction of this instance announced invalidations: wait for the others to confirm it. */
  expect(transaction: string): void {
    if (this.pending.has(transaction)) return;
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const entry: Pending = { acknowledged: this.early.get(transaction) ?? new Set(), settle, done };
    this.early.delete(transaction);
    this.pending.set(transaction, entry);
    void this.await(transaction, entry);
  }

  acknowledged(transaction: string, listenerPid: number): void {
    const entry = this.pending.get(transaction);
    if (!entry) {
      this.keepEarly(transaction, listenerPid);
      return;
    }
    entry.acknowledged.add(listenerPid);
    if (entry.expected && [...entry.expected].every((pid) => entry.acknowledged.has(pid))) this.finish(transaction);
  }

  /** Calls `callback` once every wait under way now is over (at once, and synchronously, when none is). */
  afterConfirmed(callback: () => void): void {
    if (this.pending.size === 0) {
      callback();
      return;
    }
    void Promise.all([...this.pending.values()].map((entry) => entry.done)).then(callback);
  }

  /** Ends every wait (the instance stops, or can no longer hear acknowledgements). */
  releaseAll(): void {
    for (const transaction of [...this.pending.keys()]) this.finish(transaction);
  }

  private async await(transaction: string, entry: Pending): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      entry.expected = new Set(await this.peers.otherListeners());
      if ([...entry.expected].every((pid) => entry.acknowledged.has(pid))) return;
      const timedOut = await Promise.race([
        entry.done.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.timeoutMs))),
      ]);
      if (!timedOut) return;
      const silent = [...entry.expected].filter((pid) => !entry.acknowledged.has(pid));
      this.peers.onUnconfirmed(silent);
      await this.peers.terminate(silent);
    } catch {
      // The database cannot be asked: the listeners of the others are as deaf as this one.
    } finally {
      clearTimeout(timer);
      this.finish(transaction);
    }
  }

  private keepEarly(transaction: string, listenerPid: number): void {
    let pids = this.early.get(transaction);
    if (!pids) {
      if (this.early.size >= EARLY_KEPT) this.early.delete(this.early.keys().next().value as string);
      this.early.set(transaction, (pids = new Set()));
    }
    pids.add(listenerPid);
  }

  private finish(transaction: string): void {
    const entry = this.pending.get(transaction);
    if (!entry) return;
    this.pending.delete(transaction);
    entry.settle();
  }
}
