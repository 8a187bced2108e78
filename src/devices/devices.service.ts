import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, Not, Repository } from 'typeorm';
import { AuditEntry, AuditService } from '#src/audit/audit.service.js';
import type { AuditStatus } from '#src/audit/audit-log.entity.js';
import type { ClientPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import type { Page } from '#src/common/pagination.dto.js';
import { ProblemException } from '#src/common/problem.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { MetricsRegistry } from '#src/metrics/metrics-registry.js';
import { encodeBase32 } from '#src/otp/base32.js';
import { verifyTotp } from '#src/otp/otp-engine.js';
import { buildOtpauthUri } from '#src/otp/otpauth-uri.js';
import { qrPngDataUrl } from '#src/otp/qr.js';
import { Device } from './device.entity.js';
import { DEVICE_TOTP, deriveDeviceKey, hashDeviceKey } from './device-key.js';
import type {
  DeviceResponseDto,
  DeviceVerifyResultDto,
  ListDevicesQueryDto,
  ProvisionedDeviceDto,
  RegisterDeviceDto,
  VerifyDeviceDto,
} from './dto/device.dto.js';

/** Who changes a device: the owning client's API key, or the operator's command line. */
export type DeviceActor = ClientPrincipal | { kind: 'system' };

/** Verification by user_id tries at most this many of the user's active devices. */
export const MAX_DEVICES_PER_VERIFY = 10;
/** TOTP steps accepted either side of the current one. */
const WINDOW = 1;

/** The columns verification needs, read in one query. */
interface DeviceKeyRow {
  id: string;
  device_id: string;
  user_id: string;
  key_version: number;
  key_generation: number;
  derived_key_hash: string;
  is_active: boolean;
  last_used_step: string | null;
  locked_until: Date | null;
}

/** What an audit record names a device by. */
type DeviceRef = Pick<Device, 'id' | 'clientId' | 'deviceId' | 'userId'>;

const refOf = (row: DeviceKeyRow, clientId: string): DeviceRef => ({
  id: row.id,
  clientId,
  deviceId: row.device_id,
  userId: row.user_id,
});

const KEY_ROW_COLUMNS = `id, device_id, user_id, key_version, key_generation, derived_key_hash, is_active,
  last_used_step, locked_until`;

const notFound = (): ProblemException =>
  new ProblemException(HttpStatus.NOT_FOUND, 'DEVICE_NOT_FOUND', 'No such device.');

const locked = (): ProblemException =>
  new ProblemException(
    HttpStatus.LOCKED,
    'DEVICE_LOCKED',
    'Too many failed verifications: the device is locked for a while.',
  );

@Injectable()
export class DevicesService {
  constructor(
    @InjectRepository(Device) private readonly devices: Repository<Device>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsRegistry,
  ) {}

  /** Registers a device and answers its key, once, under the active master secret version. */
  async register(client: ClientPrincipal, dto: RegisterDeviceDto): Promise<ProvisionedDeviceDto> {
    const version = this.config.masterSecrets.activeVersion;
    const key = this.deriveKey(version, client.clientId, dto.device_id, 0);
    try {
      const device = await this.dataSource.transaction(async (manager) => {
        const created = await manager.save(
          manager.create(Device, {
            clientId: client.clientId,
            deviceId: dto.device_id,
            userId: dto.user_id,
            label: dto.label ?? null,
            keyVersion: version,
            keyGeneration: 0,
            derivedKeyHash: hashDeviceKey(key),
            createdAt: this.clock.now(),
          }),
        );
        await this.record(manager, client, 'device.register', 'success', created, { key_version: version });
        return created;
      });
      return await this.provisioned(device, key);
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new ProblemException(
          HttpStatus.CONFLICT,
          'DEVICE_EXISTS',
          'This client already has a device with this device_id.',
        );
      }
      throw error;
    }
  }

  /**
   * Checks a device TOTP. A code is accepted once (its step must be past the device's last
   * accepted step, claimed by one conditional UPDATE), inactive devices never match, and
   * consecutive failures lock the device. By user_id, the user's active devices are tried.
   */
  async verify(client: ClientPrincipal, dto: VerifyDeviceDto): Promise<DeviceVerifyResultDto> {
    const now = this.clock.now();
    const candidates = await this.candidates(client, dto);
    const byDevice = dto.device_id !== undefined;
    const usable = candidates.filter((d) => d.is_active && !(d.locked_until && d.locked_until > now));

    if (usable.length === 0) {
      const anyLocked = candidates.some((d) => d.is_active && d.locked_until && d.locked_until > now);
      const reason = anyLocked ? 'locked' : 'inactive';
      await this.recordVerifyFailure(client, candidates, reason, dto, this.dataSource.manager);
      this.metrics.otpVerification('device', anyLocked ? 'locked' : 'failure');
      if (anyLocked) throw locked();
      return { valid: false, device_id: byDevice ? dto.device_id! : null };
    }

    let replayed = false;
    // By user_id, a device whose master secret version is gone is skipped, not fatal.
    const keyed = usable.flatMap((device) => {
      const key = this.keyOf(device, client.clientId);
      return key ? [{ device, key }] : [];
    });
    if (keyed.length === 0) throw rekeyRequired();
    for (const { device, key } of keyed) {
      const result = verifyTotp({
        ...DEVICE_TOTP,
        secret: key,
        code: dto.otp,
        now: now.getTime(),
        window: WINDOW,
        afterStep: device.last_used_step === null ? null : Number(device.last_used_step),
      });
      if (!result.valid) {
        replayed ||= result.reason === 'replay';
        continue;
      }
      // The claim and its audit record are one statement (one round trip, atomic).
      const accepted = await this.claimStep(
        device.id,
        result.step,
        now,
        this.auditEntry(client, 'device.verify', 'success', refOf(device, client.clientId), { drift: result.drift }),
      );
      if (!accepted) await this.recordVerifyFailure(client, [device], 'replay', dto, this.dataSource.manager);
      this.metrics.otpVerification('device', accepted ? 'success' : 'replay');
      if (accepted) return { valid: true, device_id: device.device_id, drift: result.drift };
      return { valid: false, device_id: device.device_id };
    }

    // A replay is someone presenting a code that was valid: it is refused but is no guess.
    if (replayed) {
      await this.recordVerifyFailure(client, usable, 'replay', dto, this.dataSource.manager);
    } else {
      await this.dataSource.transaction((manager) => this.countFailure(manager, client, usable, dto, now));
    }
    this.metrics.otpVerification('device', replayed ? 'replay' : 'failure');
    return { valid: false, device_id: byDevice ? dto.device_id! : null };
  }

  async list(clientId: string, query: ListDevicesQueryDto): Promise<Page<DeviceResponseDto>> {
    const [rows, total] = await this.devices.findAndCount({
      where: {
        clientId,
        ...(query.user_id !== undefined && { userId: query.user_id }),
        ...(query.active !== undefined && { isActive: query.active }),
        ...(query.verified !== undefined && { verifiedAt: query.verified ? Not(IsNull()) : IsNull() }),
      },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: query.limit,
      skip: query.offset,
    });
    return { items: rows.map((d) => this.toResponse(d)), total, limit: query.limit, offset: query.offset };
  }

  async get(clientId: string, deviceId: string): Promise<DeviceResponseDto> {
    const device = await this.devices.findOne({ where: { clientId, deviceId } });
    if (!device) throw notFound();
    return this.toResponse(device);
  }

  /** Stops the device verifying (its key stays on record, unusable). Idempotent. */
  deactivate(clientId: string, deviceId: string, actor: DeviceActor): Promise<DeviceResponseDto> {
    return this.change(clientId, deviceId, actor, 'device.deactivate', (device, now) =>
      device.isActive ? { isActive: false, deactivatedAt: now } : {},
    );
  }

  /** Lets a deactivated device verify again, with the key it had. Idempotent. */
  reactivate(clientId: string, deviceId: string, actor: DeviceActor): Promise<DeviceResponseDto> {
    return this.change(clientId, deviceId, actor, 'device.reactivate', (device) =>
      device.isActive ? {} : { isActive: true, deactivatedAt: null },
    );
  }

  /**
   * Issues a new key for the device under the active master secret version (the key
   * generation moves on, so the key changes even when the version does not). The old key
   * stops working at once; the device counts as unverified until its new key is used.
   */
  async rekey(clientId: string, deviceId: string, actor: DeviceActor): Promise<ProvisionedDeviceDto> {
    const version = this.config.masterSecrets.activeVersion;
    const { device, key } = await this.dataSource.transaction(async (manager) => {
      const found = await manager.findOne(Device, {
        where: { clientId, deviceId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!found) throw notFound();
      if (!found.isActive) {
        throw new ProblemException(
          HttpStatus.CONFLICT,
          'DEVICE_INACTIVE',
          'Reactivate the device before re-keying it.',
        );
      }
      const previousVersion = found.keyVersion;
      const generation = found.keyGeneration + 1;
      const newKey = this.deriveKey(version, clientId, deviceId, generation);
      const changes = {
        keyVersion: version,
        keyGeneration: generation,
        derivedKeyHash: hashDeviceKey(newKey),
        verifiedAt: null,
        failedAttempts: 0,
        lockedUntil: null,
      };
      await manager.update(Device, { id: found.id }, changes);
      Object.assign(found, changes);
      await this.record(manager, actor, 'device.rekey', 'success', found, {
        key_version: version,
        previous_key_version: previousVersion,
      });
      return { device: found, key: newKey };
    });
    return this.provisioned(device, key);
  }

  private async change(
    clientId: string,
    deviceId: string,
    actor: DeviceActor,
    action: string,
    changesFor: (device: Device, now: Date) => Partial<Device>,
  ): Promise<DeviceResponseDto> {
    return this.dataSource.transaction(async (manager) => {
      const device = await manager.findOne(Device, {
        where: { clientId, deviceId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!device) throw notFound();
      const changes = changesFor(device, this.clock.now());
      if (Object.keys(changes).length > 0) await manager.update(Device, { id: device.id }, changes);
      Object.assign(device, changes);
      await this.record(manager, actor, action, 'success', device, {});
      return this.toResponse(device);
    });
  }

  /** The device named, or the user's active devices (bounded); another client's are never found. */
  private async candidates(client: ClientPrincipal, dto: VerifyDeviceDto): Promise<DeviceKeyRow[]> {
    if (dto.device_id !== undefined) {
      const rows: DeviceKeyRow[] = await this.dataSource.query(
        `SELECT ${KEY_ROW_COLUMNS} FROM devices WHERE client_id = $1 AND device_id = $2`,
        [client.clientId, dto.device_id],
      );
      if (rows.length === 0) throw notFound();
      return rows;
    }
    const rows: DeviceKeyRow[] = await this.dataSource.query(
      `SELECT ${KEY_ROW_COLUMNS} FROM devices WHERE client_id = $1 AND user_id = $2 AND is_active
      ORDER BY last_used_at DESC NULLS LAST, created_at DESC, id LIMIT ${MAX_DEVICES_PER_VERIFY}`,
      [client.clientId, dto.user_id],
    );
    if (rows.length === 0) {
      const [known] = await this.dataSource.query(
        `SELECT EXISTS (SELECT 1 FROM devices WHERE client_id = $1 AND user_id = $2) AS known`,
        [client.clientId, dto.user_id],
      );
      if (!known?.known) {
        throw new ProblemException(HttpStatus.NOT_FOUND, 'DEVICE_NOT_FOUND', 'This user has no device.');
      }
    }
    return rows;
  }

  /** Accepts `step` for the device unless it, or a later step, was accepted already (one statement). */
  /** Accepts the step once (replay guard, lock, active) and appends its audit record in the same statement. */
  private async claimStep(id: string, step: number, now: Date, audit: AuditEntry): Promise<boolean> {
    const changed = await this.audit.recordWithChange(
      `UPDATE devices SET last_used_step = $2, usage_count = usage_count + 1, last_used_at = $3,
        verified_at = COALESCE(verified_at, $3), failed_attempts = 0
      WHERE id = $1 AND is_active AND (locked_until IS NULL OR locked_until <= $3)
        AND (last_used_step IS NULL OR last_used_step < $2)
      RETURNING id`,
      [id, step, now],
      audit,
    );
    return changed === 1;
  }

  /** One more consecutive failure on each device tried; the one reaching the limit locks. */
  private async countFailure(
    manager: EntityManager,
    client: ClientPrincipal,
    tried: DeviceKeyRow[],
    dto: VerifyDeviceDto,
    now: Date,
  ): Promise<void> {
    const { maxFailures, lockMinutes } = this.config.devices;
    const lockUntil = new Date(now.getTime() + lockMinutes * 60_000);
    const [rows] = await manager.query(
      `UPDATE devices SET
        failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
        locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $4 ELSE locked_until END
      WHERE id = ANY($1) AND is_active AND (locked_until IS NULL OR locked_until <= $3)
      RETURNING id, locked_until = $4 AS locked_now`,
      [tried.map((d) => d.id), maxFailures, now, lockUntil],
    );
    await this.recordVerifyFailure(client, tried, 'mismatch', dto, manager);
    const lockedIds = new Set(
      (rows as Array<{ id: string; locked_now: boolean }>).filter((r) => r.locked_now).map((r) => r.id),
    );
    for (const device of tried.filter((d) => lockedIds.has(d.id))) {
      await this.record(manager, client, 'device.lock', 'success', refOf(device, client.clientId), {
        failures: maxFailures,
        locked_until: lockUntil.toISOString(),
      });
    }
  }

  private recordVerifyFailure(
    client: ClientPrincipal,
    tried: DeviceKeyRow[],
    reason: 'mismatch' | 'replay' | 'inactive' | 'locked',
    dto: VerifyDeviceDto,
    manager: EntityManager,
  ): Promise<void> {
    const single = tried.length === 1 ? tried[0] : undefined;
    return this.audit.record(
      {
        actorType: 'api_key',
        actorId: client.apiKeyId,
        action: 'device.verify',
        resource: 'device',
        resourceId: single?.id ?? null,
        status: 'failure',
        details: {
          client_id: client.clientId,
          ...(dto.device_id !== undefined ? { device_id: dto.device_id } : { user_id: dto.user_id }),
          ...(!single && dto.user_id !== undefined && { devices_tried: tried.length }),
          reason,
        },
      },
      manager,
    );
  }

  /**
   * The device's key, recomputed from its master secret version; null when that version is
   * not configured any more or no longer yields the stored hash (the device needs a re-key).
   */
  private keyOf(device: DeviceKeyRow, clientId: string): Buffer | null {
    const master = this.config.masterSecrets.secrets.get(device.key_version);
    if (!master) return null;
    const key = deriveDeviceKey(master, clientId, device.device_id, device.key_generation);
    return hashDeviceKey(key) === device.derived_key_hash.trim() ? key : null;
  }

  /** A key under a configured version (the active one, for registration and re-key). */
  private deriveKey(version: number, clientId: string, deviceId: string, generation: number): Buffer {
    const master = this.config.masterSecrets.secrets.get(version);
    if (!master) throw new Error(`master secret version ${version} is not configured`);
    return deriveDeviceKey(master, clientId, deviceId, generation);
  }

  private async provisioned(device: Device, key: Buffer): Promise<ProvisionedDeviceDto> {
    const provisioningUri = buildOtpauthUri({
      type: 'totp',
      issuer: device.clientId,
      accountName: device.userId,
      secret: key,
      ...DEVICE_TOTP,
    });
    return {
      device_id: device.deviceId,
      user_id: device.userId,
      label: device.label,
      derived_key: key.toString('base64'),
      secret: encodeBase32(key),
      provisioning_uri: provisioningUri,
      qr_code: await qrPngDataUrl(provisioningUri),
      key_version: device.keyVersion,
      created_at: device.createdAt.toISOString(),
    };
  }

  private toResponse(device: Device): DeviceResponseDto {
    const now = this.clock.now();
    return {
      device_id: device.deviceId,
      user_id: device.userId,
      label: device.label,
      key_version: device.keyVersion,
      is_active: device.isActive,
      verified: device.verifiedAt !== null,
      verified_at: device.verifiedAt?.toISOString() ?? null,
      usage_count: Number(device.usageCount ?? 0),
      last_used_at: device.lastUsedAt?.toISOString() ?? null,
      locked: device.lockedUntil !== null && device.lockedUntil > now,
      locked_until: device.lockedUntil && device.lockedUntil > now ? device.lockedUntil.toISOString() : null,
      deactivated_at: device.deactivatedAt?.toISOString() ?? null,
      created_at: device.createdAt.toISOString(),
    };
  }

  private record(
    manager: EntityManager,
    actor: DeviceActor,
    action: string,
    status: AuditStatus,
    device: DeviceRef,
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(this.auditEntry(actor, action, status, device, details), manager);
  }

  private auditEntry(
    actor: DeviceActor,
    action: string,
    status: AuditStatus,
    device: DeviceRef,
    details: Record<string, unknown>,
  ): AuditEntry {
    return {
      actorType: actor.kind === 'api_key' ? 'api_key' : 'system',
      actorId: actor.kind === 'api_key' ? actor.apiKeyId : null,
      action,
      resource: 'device',
      resourceId: device.id,
      status,
      details: { client_id: device.clientId, device_id: device.deviceId, user_id: device.userId, ...details },
    };
  }
}

const rekeyRequired = (): ProblemException =>
  new ProblemException(
    HttpStatus.CONFLICT,
    'DEVICE_REKEY_REQUIRED',
    "The master secret this device's key was derived from is not available any more: re-key the device.",
  );
