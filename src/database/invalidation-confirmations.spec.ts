import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidationConfirmations } from './invalidation-confirmations.js';

function peers(listeners: number[]) {
  const terminated: number[][] = [];
  return {
    terminated,
    peers: {
      otherListeners: () => Promise.resolve(listeners),
      terminate: (pids: number[]) => {
        terminated.push(pids);
        return Promise.resolve();
      },
      onUnconfirmed: () => undefined,
    },
  };
}

/** Whether `afterConfirmed` has called back, after letting pending promises run. */
async function confirmedAfterFlush(confirmations: InvalidationConfirmations): Promise<() => boolean> {
  let called = false;
  confirmations.afterConfirmed(() => (called = true));
  await vi.advanceTimersByTimeAsync(0);
  return () => called;
}

describe(InvalidationConfirmations.name, () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('calls back at once, synchronously, when nothing is awaited', () => {
    const confirmations = new InvalidationConfirmations(peers([1]).peers, 1000);
    let called = false;
    confirmations.afterConfirmed(() => (called = true));
    expect(called).toBe(true);
  });

  it('holds answers until every other listener acknowledged the transaction', async () => {
    const confirmations = new InvalidationConfirmations(peers([11, 12]).peers, 1000);
    confirmations.expect('900');
    const called = await confirmedAfterFlush(confirmations);
    confirmations.acknowledged('900', 11);
    confirmations.acknowledged('899', 12); // another transaction's
    await vi.advanceTimersByTimeAsync(0);
    expect(called()).toBe(false);
    confirmations.acknowledged('900', 12);
    await vi.advanceTimersByTimeAsync(0);
    expect(called()).toBe(true);
    expect(confirmations.outstanding).toBe(0);
  });

  it('counts an acknowledgement heard before the instance saw its own notice', async () => {
    const confirmations = new InvalidationConfirmations(peers([11]).peers, 1000);
    confirmations.acknowledged('901', 11);
    confirmations.expect('901');
    const called = await confirmedAfterFlush(confirmations);
    expect(called()).toBe(true);
  });

  it('ends the listeners that stay silent past the timeout, then lets the answer go', async () => {
    const { peers: deps, terminated } = peers([11, 12]);
    const confirmations = new InvalidationConfirmations(deps, 1000);
    confirmations.expect('902');
    confirmations.acknowledged('902', 11);
    const called = await confirmedAfterFlush(confirmations);
    await vi.advanceTimersByTimeAsync(999);
    expect(called()).toBe(false);
    expect(terminated).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(terminated).toEqual([[12]]);
    expect(called()).toBe(true);
  });

  it('lets answers go when the listeners cannot be asked for', async () => {
    const confirmations = new InvalidationConfirmations(
      {
        otherListeners: () => Promise.reject(new Error('down')),
        terminate: () => Promise.resolve(),
        onUnconfirmed: () => undefined,
      },
      1000,
    );
    confirmations.expect('903');
    const called = await confirmedAfterFlush(confirmations);
    expect(called()).toBe(true);
  });
});
