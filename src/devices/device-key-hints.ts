import { BoundedMap } from '#src/common/bounded-map.js';

/** Which key a device has: the master secret version and the key generation it was derived with. */
export interface DeviceKeyHint {
  version: number;
  generation: number;
}

const DEFAULT_CAPACITY = 50_000;

/**
 * The key version and generation of the devices verified lately, so a verification can derive
 * the key before reading the device. A hint is only a guess: the statement that accepts a
 * code checks the derived key against the stored hash, so a stale hint (a re-key, on any
 * instance) costs one more round trip, never a wrong answer. Holds no key; bounded, the
 * oldest entry goes first.
 */
export class DeviceKeyHints {
  private readonly hints: BoundedMap<DeviceKeyHint>;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.hints = new BoundedMap(capacity);
  }

  of(clientId: string, deviceId: string): DeviceKeyHint | undefined {
    return this.hints.get(keyOf(clientId, deviceId));
  }

  remember(clientId: string, device: { device_id: string; key_version: number; key_generation: number }): void {
    const key = keyOf(clientId, device.device_id);
    const known = this.hints.get(key);
    if (known?.version === device.key_version && known.generation === device.key_generation) return;
    this.hints.set(key, { version: device.key_version, generation: device.key_generation });
  }

  get size(): number {
    return this.hints.size;
  }
}

// Client ids and device ids never contain a NUL character.
const keyOf = (clientId: string, deviceId: string): string => `${clientId}\u0000${deviceId}`;
