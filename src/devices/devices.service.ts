import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, Not, Repository } from 'typeorm';
import { AuditEntry, AuditService } from '#src/audit/audit.service.js';
import type { AuditStatus } from '#src/audit/audit-log.entity.js';
import type { ClientPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import type { Page } from '#src/common/pagination.dto.js';
import { countedOutcome, type CountedRow, isLocked, lockedProblem, lockEnd, lockSql } from '#src/common/lockout.js';
import { ProblemException } from '#src/common/problem.js';
import { SqlParams } from '#src/common/sql.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { preparedRows } from '#src/database/prepared-query.js';
import { MetricsRegistry } from '#src/metrics/metrics-registry.js';
import { encodeBase32 } from '#src/otp/base32.js';
import { verifyTotp } from '#src/otp/otp-engine.js';
import { buildOtpauthUri } from '#src/otp/otpauth-uri.js';
import { qrPngDataUrl } from '#src/otp/qr.js';
import { Device } from './device.entity.js';
import { DEVICE_TOTP, deriveDeviceKey, hashDeviceKey } from './device-key.js';
import { DeviceKeyHints } from './device-key-hints.js';
import type {
  DeviceResponseDto,
  DeviceVerifyResultDto,
  ListDevicesQueryDto,
  ProvisionedDeviceDto,
  RegisterDeviceDto,
  VerifyDeviceDto,
} from './dto/device.dto.js';
import { toDeviceResponse } from './devices.mapper.js';

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

const locked = (lockedUntil: Date, now: Date): ProblemException =>
  lockedProblem('DEVICE_LOCKED', 'Too many failed verifications: the device is locked for a while.', lockedUntil, now);

/** The lock columns of a device, for the claim (at the placeholder `now`) and for counting a failure. */
const claimLock = (now: string) => lockSql({ failures: 'failed_attempts', lockedUntil: 'locked_until', now });
const FAILURE_LOCK = lockSql({
  failures: 'failed_attempts',
  lockedUntil: 'locked_until',
  now: '$2',
  maxFailures: '$3',
  lockUntil: '$4',
});

/**
 * One more consecutive failure on each device tried, unless it is locked (no row for it then);
 * at the limit the device locks. The count and the verdict are one statement; the rows are
 * locked in id order first, so concurrent counts over several devices cannot deadlock.
 */
const COUNT_FAILURE = `
  WITH tried AS (SELECT id FROM devices WHERE id = ANY($1) ORDER BY id FOR UPDATE)
  UPDATE devices SET ${FAILURE_LOCK.countFailure}
    FROM tried
   WHERE devices.id = tried.id AND is_active AND ${FAILURE_LOCK.notLocked}
  RETURNING devices.id, ${FAILURE_LOCK.returning}`;

/** The earliest end among locks (the first moment one of the devices can verify again). */
const earliest = (dates: Date[]): Date => new Date(Math.min(...dates.map((d) => d.getTime())));

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

  /** Which key each recently seen device has (version and generation; never a key). */
  private readonly keyHints = new DeviceKeyHints();

  /** Figures over all clients' devices for metrics/system: one statement. */
  async figures(): Promise<{ total: number; active: number; verified: number }> {
    const [row] = await this.dataSource.query<Array<{ total: number; active: number; verified: number }>>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE is_active)::int AS active,
              count(*) FILTER (WHERE verified_at IS NOT NULL)::int AS verified
         FROM devices`,
    );
    return row;
  }

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
   * consecutive failures lock the device. By user_id, the user's active devices that are not
   * locked are tried; a wrong code is answered "wrong" only when it counted on every device it
   * was checked against, so no device ever answers more than its limit of wrong guesses.
   */
  async verify(client: ClientPrincipal, dto: VerifyDeviceDto): Promise<DeviceVerifyResultDto> {
    const now = this.clock.now();
    if (dto.device_id !== undefined) {
      const accepted = await this.acceptInOneStatement(client, dto.device_id, dto.otp, now);
      if (accepted) return accepted;
    }
    const candidates = await this.candidates(client, dto);
    for (const device of candidates) this.keyHints.remember(client.clientId, device);
    const byDevice = dto.device_id !== undefined;
    const usable = candidates.filter((d) => d.is_active && !isLocked(d.locked_until, now));

    if (usable.length === 0) {
      const lockEnds = candidates.flatMap((d) =>
        d.is_active && isLocked(d.locked_until, now) ? [d.locked_until] : [],
      );
      if (lockEnds.length > 0) return this.refuseLocked(client, candidates, dto, earliest(lockEnds), now);
      await this.recordVerifyFailure(client, candidates, 'inactive', dto, this.dataSource.manager);
      this.metrics.otpVerification('device', 'failure');
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
      if (accepted) {
        this.metrics.otpVerification('device', 'success');
        return { valid: true, device_id: device.device_id, drift: result.drift };
      }
      // The step was used already, or the lock landed first (423: a right code is never "wrong").
      const [lockEnd] = await this.lockEnds([device.id], now);
      if (lockEnd) return this.refuseLocked(client, [device], dto, lockEnd, now);
      await this.recordVerifyFailure(client, [device], 'replay', dto, this.dataSource.manager);
      this.metrics.otpVerification('device', 'replay');
      return { valid: false, device_id: device.device_id };
    }

    // A replay is someone presenting a code that was valid: it is refused but is no guess.
    if (replayed) {
      await this.recordVerifyFailure(client, usable, 'replay', dto, this.dataSource.manager);
      this.metrics.otpVerification('device', 'replay');
      return { valid: false, device_id: byDevice ? dto.device_id! : null };
    }
    const tried = keyed.map((k) => k.device);
    const lockEnds = await this.dataSource.transaction((manager) =>
      this.countFailure(manager, client, tried, dto, now),
    );
    if (lockEnds.length > 0) return this.refuseLocked(client, tried, dto, earliest(lockEnds), now);
    this.metrics.otpVerification('device', 'failure');
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
    const now = this.clock.now();
    return { items: rows.map((d) => toDeviceResponse(d, now)), total, limit: query.limit, offset: query.offset };
  }

  async get(clientId: string, deviceId: string): Promise<DeviceResponseDto> {
    const device = await this.devices.findOne({ where: { clientId, deviceId } });
    if (!device) throw notFound();
    return toDeviceResponse(device, this.clock.now());
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
      return toDeviceResponse(device, this.clock.now());
    });
  }

  /**
   * The common case in one round trip: a right code for a device named by device_id. The key is
   * derived from the device's last known key version and generation (or the active version's
   * first key); the statement accepts the step only if that key is the device's key now (its
   * stored hash), the device is active and not locked and the step is past its last one, and
   * writes the audit record with it. Anything else (a wrong code, a replay, a lock, a new key)
   * changes nothing and answers null: the full path then decides, as if this had not run.
   */
  private async acceptInOneStatement(
    client: ClientPrincipal,
    deviceId: string,
    otp: string,
    now: Date,
  ): Promise<DeviceVerifyResultDto | null> {
    const hint = this.keyHints.of(client.clientId, deviceId) ?? {
      version: this.config.masterSecrets.activeVersion,
      generation: 0,
    };
    const master = this.config.masterSecrets.secrets.get(hint.version);
    if (!master) return null;
    const key = deriveDeviceKey(master, client.clientId, deviceId, hint.generation);
    const result = verifyTotp({ ...DEVICE_TOTP, secret: key, code: otp, now: now.getTime(), window: WINDOW });
    if (!result.valid) return null;
    const p = new SqlParams();
    const at = p.add(now);
    const lock = claimLock(at);
    const step = p.add(result.step);
    const claim = `UPDATE devices SET last_used_step = ${step}, usage_count = usage_count + 1, last_used_at = ${at},
          verified_at = COALESCE(verified_at, ${at}), ${lock.reset}
        WHERE client_id = ${p.add(client.clientId)} AND device_id = ${p.add(deviceId)}
          AND derived_key_hash = ${p.add(hashDeviceKey(key))} AND is_active AND ${lock.notLocked}
          AND (last_used_step IS NULL OR last_used_step < ${step})
        RETURNING id, user_id`;
    const audit = this.audit.insertFrom(
      p,
      'claimed',
      {
        actorType: 'api_key',
        actorId: client.apiKeyId,
        action: 'device.verify',
        resource: 'device',
        status: 'success',
        details: { client_id: client.clientId, device_id: deviceId, drift: result.drift },
      },
      { resourceId: 'id', details: "jsonb_build_object('user_id', user_id)" },
    );
    const rows = await preparedRows(
      this.dataSource,
      `WITH claimed AS (${claim}), audit AS (${audit}) SELECT id FROM claimed`,
      p.values,
    );
    if (rows.length !== 1) return null;
    this.metrics.otpVerification('device', 'success');
    return { valid: true, device_id: deviceId, drift: result.drift };
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

  /** Accepts the step once (replay guard, lock, active) and appends its audit record in the same statement. */
  private async claimStep(id: string, step: number, now: Date, audit: AuditEntry): Promise<boolean> {
    const changed = await this.audit.recordWithChange((p) => {
      const at = p.add(now);
      const lock = claimLock(at);
      const claimed = p.add(step);
      return `UPDATE devices SET last_used_step = ${claimed}, usage_count = usage_count + 1, last_used_at = ${at},
          verified_at = COALESCE(verified_at, ${at}), ${lock.reset}
        WHERE id = ${p.add(id)} AND is_active AND ${lock.notLocked}
          AND (last_used_step IS NULL OR last_used_step < ${claimed})
        RETURNING id`;
    }, audit);
    return changed === 1;
  }

  /**
   * Counts a wrong code on each device it was checked against, and audits it and every lock it
   * set (again after a lapsed lock too). A device that was locked meanwhile is not counted: then
   * the answer must be 423, and this answers the lock ends of those devices (empty: all counted).
   */
  private async countFailure(
    manager: EntityManager,
    client: ClientPrincipal,
    tried: DeviceKeyRow[],
    dto: VerifyDeviceDto,
    now: Date,
  ): Promise<Date[]> {
    const rule = this.config.devices;
    const ids = tried.map((d) => d.id);
    const [rows] = await manager.query<[Array<CountedRow & { id: string }>, number]>(COUNT_FAILURE, [
      ids,
      now,
      rule.maxFailures,
      lockEnd(rule, now),
    ]);
    const counted = new Map(rows.map((row) => [row.id, countedOutcome(row)]));
    const missed = ids.filter((id) => !counted.has(id));
    if (missed.length === 0) await this.recordVerifyFailure(client, tried, 'mismatch', dto, manager);
    for (const device of tried) {
      const outcome = counted.get(device.id);
      if (!outcome?.counted || !outcome.lockedNow) continue;
      await this.record(manager, client, 'device.lock', 'success', refOf(device, client.clientId), {
        failures: outcome.failures,
        locked_until: outcome.lockedUntil?.toISOString(),
      });
    }
    if (missed.length === 0) return [];
    const ends = await this.lockEnds(missed, now, manager);
    // Locked and then unlocked again before this read (or deactivated): still no verdict.
    return ends.length > 0 ? ends : [now];
  }

  /** The lock ends of those of the devices that are locked now. */
  private async lockEnds(ids: string[], now: Date, manager: EntityManager = this.dataSource.manager): Promise<Date[]> {
    const rows = await manager.query<{ locked_until: Date | null }[]>(
      'SELECT locked_until FROM devices WHERE id = ANY($1)',
      [ids],
    );
    return rows.flatMap((row) => (isLocked(row.locked_until, now) ? [row.locked_until] : []));
  }

  /** 423 while the device (by user_id: every usable device) is locked; the refusal is audited. */
  private async refuseLocked(
    client: ClientPrincipal,
    tried: DeviceKeyRow[],
    dto: VerifyDeviceDto,
    lockedUntil: Date,
    now: Date,
  ): Promise<never> {
    await this.recordVerifyFailure(client, tried, 'locked', dto, this.dataSource.manager);
    this.metrics.otpVerification('device', 'locked');
    throw locked(lockedUntil, now);
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
