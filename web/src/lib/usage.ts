import type { Schemas } from '../api/client';

type UsageInfo = Schemas['UsageInfoDto'];
export type KeyState = 'ok' | 'last' | 'gone' | 'unlimited';

/** The reference key manager's line: "3 uses remaining (2/5 used)", "Unlimited uses (Used 15 times)". */
export function usageLine(info: UsageInfo): string {
  if (info.max_uses === -1 || info.remaining_uses === 'unlimited') {
    return `Unlimited uses (Used ${info.usage_count} time${info.usage_count === 1 ? '' : 's'})`;
  }
  const left = Number(info.remaining_uses);
  return `${left} use${left === 1 ? '' : 's'} remaining (${info.usage_count}/${info.max_uses} used)`;
}

/** green: several left or unlimited (∞), yellow: one left, red: depleted or expired. */
export function keyState(info: UsageInfo, status?: string): KeyState {
  if (status === 'expired' || status === 'depleted') return 'gone';
  if (info.max_uses === -1 || info.remaining_uses === 'unlimited') return 'unlimited';
  const left = Number(info.remaining_uses);
  if (left <= 0) return 'gone';
  return left === 1 ? 'last' : 'ok';
}

export const STATE_COLOR: Record<KeyState, string> = { ok: 'green', unlimited: 'green', last: 'yellow', gone: 'red' };
export const STATE_LABEL: Record<KeyState, string> = {
  ok: 'Available',
  unlimited: '∞ Unlimited',
  last: 'One use left',
  gone: 'Used up',
};
