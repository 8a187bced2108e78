import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import type { Page } from '#src/common/pagination.dto.js';
import { ProblemException } from '#src/common/problem.js';
import { containsPattern } from '#src/common/sql.js';
import { preparedRows } from '#src/database/prepared-query.js';
import { randomSecret } from '#src/crypto/random.js';
import { SecretCipher } from '#src/crypto/secret-cipher.js';
import { decodeBase32, encodeBase32 } from '#src/otp/base32.js';
import { defaultSecretBytes, type OtpDigits } from '#src/otp/otp-engine.js';
import { buildOtpauthUri } from '#src/otp/otpauth-uri.js';
import { qrPngDataUrl, qrSvg } from '#src/otp/qr.js';
import {
  CreatedOtpConfigDto,
  CreateOtpConfigDto,
  ListOtpConfigsQueryDto,
  OtpConfigResponseDto,
  OtpParametersDto,
  OtpQrDto,
  UpdateOtpConfigDto,
} from './dto/otp-config.dto.js';
import { OtpConfig, type OtpConfigWithSecret } from './otp-config.entity.js';
import { toOtpConfigResponse } from './otp-configs.mapper.js';
import type { TransferAccount } from './transfer/transfer-account.js';
import type { ColumnSample } from '#src/crypto/key-ring-check.js';
import { reencryptColumn, sampleColumn, type RotationReport } from '#src/crypto/secret-reencryption.js';

const DEFAULT_PERIOD = 30;

export const configNotFound = (): ProblemException =>
  new ProblemException(HttpStatus.NOT_FOUND, 'CONFIG_NOT_FOUND', 'No such OTP configuration.');
const nameTaken = (): ProblemException =>
  new ProblemException(
    HttpStatus.CONFLICT,
    'CONFIG_NAME_TAKEN',
    'You already have an OTP configuration with that name.',
  );

/** What a new configuration is made of, once the input has been checked (created, or imported). */
export type NewConfig = TransferAccount;

/** One configuration of its owner, secret included, named as the entity's properties. */
const CONFIG_WITH_SECRET = `SELECT id, owner_id AS "ownerId", name, otp_type AS "otpType", algorithm, digits, period,
    counter, issuer, account_name AS "accountName", secret, is_active AS "isActive",
    last_used_step AS "lastUsedStep", failed_attempts AS "failedAttempts", locked_until AS "lockedUntil",
    created_at AS "createdAt", updated_at AS "updatedAt"
  FROM otp_configs WHERE id = $1 AND owner_id = $2`;

/** A person's authenticator accounts: CRUD, secret replacement and enrolment QR. Owner-only throughout. */
@Injectable()
export class OtpConfigsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
  ) {}

  /** Creates a configuration; the secret (generated unless supplied) is in this answer only. */
  async create(me: UserPrincipal, dto: CreateOtpConfigDto): Promise<CreatedOtpConfigDto> {
    const fields = newConfigFrom(dto, dto.secret ? decodeBase32(dto.secret) : undefined, dto.is_active);
    return this.dataSource.transaction(async (manager) => {
      const saved = await this.insert(manager, me.userId, fields);
      await this.record(manager, me, 'otp_config.create', saved.id, {
        otp_type: saved.otpType,
        imported_secret: Boolean(dto.secret),
      });
      return this.withSecret(saved, fields.secret);
    });
  }

  async list(me: UserPrincipal, query: ListOtpConfigsQueryDto): Promise<Page<OtpConfigResponseDto>> {
    const qb = this.dataSource.getRepository(OtpConfig).createQueryBuilder('c').where('c.owner_id = :owner', {
      owner: me.userId,
    });
    if (query.otp_type) qb.andWhere('c.otp_type = :type', { type: query.otp_type });
    if (query.is_active !== undefined) qb.andWhere('c.is_active = :active', { active: query.is_active });
    if (query.search) {
      const pattern = containsPattern(query.search);
      qb.andWhere(new Brackets((w) => w.where('c.name ILIKE :p', { p: pattern }).orWhere('c.issuer ILIKE :p')));
    }
    const [rows, total] = await qb
      .orderBy('c.created_at', 'DESC')
      .addOrderBy('c.id')
      .take(query.limit)
      .skip(query.offset)
      .getManyAndCount();
    return { items: rows.map(toOtpConfigResponse), total, limit: query.limit, offset: query.offset };
  }

  async get(me: UserPrincipal, id: string): Promise<OtpConfigResponseDto> {
    return toOtpConfigResponse(await this.findOwned(me.userId, id));
  }

  async update(me: UserPrincipal, id: string, dto: UpdateOtpConfigDto): Promise<OtpConfigResponseDto> {
    const changes: Partial<OtpConfig> = {
      name: dto.name,
      issuer: dto.issuer === undefined ? undefined : dto.issuer || null,
      accountName: dto.account_name === undefined ? undefined : dto.account_name || null,
      isActive: dto.is_active,
    };
    const defined = Object.fromEntries(
      Object.entries(changes).filter(([, v]) => v !== undefined),
    ) as Partial<OtpConfig>;
    return this.dataSource.transaction(async (manager) => {
      const config = await this.findOwned(me.userId, id, manager, true);
      Object.assign(config, defined);
      const saved = await this.save(manager, config);
      await this.record(manager, me, 'otp_config.update', id, { fields: Object.keys(defined) });
      return toOtpConfigResponse(saved);
    });
  }

  /** Replaces the secret (generated unless supplied); the new one is in this answer only. Resets replay and lock state. */
  async replaceSecret(me: UserPrincipal, id: string, supplied?: string): Promise<CreatedOtpConfigDto> {
    return this.dataSource.transaction(async (manager) => {
      const config = await this.findOwned(me.userId, id, manager, true);
      const secret = supplied ? decodeBase32(supplied) : randomSecret(defaultSecretBytes(config.algorithm));
      config.secret = this.cipher.encrypt(secret);
      config.lastUsedStep = null;
      config.failedAttempts = 0;
      config.lockedUntil = null;
      if (config.otpType === 'hotp') config.counter = '0';
      const saved = await this.save(manager, config);
      await this.record(manager, me, 'otp_config.secret_replace', id, { imported_secret: Boolean(supplied) });
      return this.withSecret(saved, secret);
    });
  }

  async delete(me: UserPrincipal, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.delete(OtpConfig, { id, ownerId: me.userId });
      if (!result.affected) throw configNotFound();
      await this.record(manager, me, 'otp_config.delete', id);
    });
  }

  /** Enrolment material: the otpauth URI and its QR code. A secret reveal, so it is audited. */
  async qr(me: UserPrincipal, id: string, format: 'png' | 'svg'): Promise<OtpQrDto> {
    const config = await this.findWithSecret(me.userId, id);
    const uri = this.provisioningUri(config, this.cipher.decrypt(config.secret));
    await this.record(this.dataSource.manager, me, 'otp_config.qr_reveal', id, { format });
    return { provisioning_uri: uri, format, qr_code: format === 'svg' ? await qrSvg(uri) : await qrPngDataUrl(uri) };
  }

  /** An owned configuration, or 404 (also for other people's ids: no existence oracle). */
  async findOwned(ownerId: string, id: string, manager?: EntityManager, lock = false): Promise<OtpConfig> {
    const config = await (manager ?? this.dataSource.manager).findOne(OtpConfig, {
      where: { id, ownerId },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!config) throw configNotFound();
    return config;
  }

  /** Read on every generate and validate: one prepared statement, no query builder. */
  async findWithSecret(ownerId: string, id: string): Promise<OtpConfigWithSecret> {
    const [config] = await preparedRows<OtpConfigWithSecret>(this.dataSource, CONFIG_WITH_SECRET, [id, ownerId]);
    if (!config) throw configNotFound();
    return config;
  }

  provisioningUri(config: OtpConfig, secret: Buffer): string {
    return buildOtpauthUri({
      type: config.otpType,
      issuer: config.issuer ?? undefined,
      accountName: config.accountName || config.name,
      secret,
      algorithm: config.algorithm,
      digits: config.digits,
      period: config.period ?? undefined,
      counter: config.counter === null ? undefined : Number(config.counter),
    });
  }

  /** Inserts a checked configuration in the caller's transaction (creation and import). */
  async insert(manager: EntityManager, ownerId: string, fields: NewConfig): Promise<OtpConfig> {
    return this.save(
      manager,
      manager.create(OtpConfig, {
        ownerId,
        name: fields.name,
        otpType: fields.otpType,
        algorithm: fields.algorithm,
        digits: fields.digits,
        period: fields.period,
        counter: fields.counter === null ? null : String(fields.counter),
        issuer: fields.issuer,
        accountName: fields.accountName,
        secret: this.cipher.encrypt(fields.secret),
        isActive: fields.isActive,
      }),
    );
  }

  /** Saves; a name the owner already uses is a 409, not a 500. */
  private async save(manager: EntityManager, config: OtpConfig): Promise<OtpConfig> {
    try {
      return await manager.save(config);
    } catch (error) {
      if ((error as QueryFailedError & { constraint?: string }).constraint === 'UQ_otp_configs_owner_name') {
        throw nameTaken();
      }
      throw error;
    }
  }

  private withSecret(config: OtpConfig, secret: Buffer): CreatedOtpConfigDto {
    const { secret: _ciphertext, ...visible } = config as OtpConfigWithSecret;
    return {
      ...toOtpConfigResponse(visible as OtpConfig),
      secret: encodeBase32(secret),
      provisioning_uri: this.provisioningUri(config, secret),
    };
  }

  private record(
    manager: EntityManager,
    me: UserPrincipal,
    action: string,
    resourceId: string | null,
    details?: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      { actorType: 'user', actorId: me.userId, action, resource: 'otp_config', resourceId, status: 'success', details },
      manager,
    );
  }

  /** A few stored configuration secrets, for the start-up key ring check. */
  async secretSamples(): Promise<ColumnSample[]> {
    const sample = await sampleColumn(this.dataSource, { table: 'otp_configs', column: 'secret' });
    return sample ? [sample] : [];
  }

  /** Re-encrypts the configurations' secrets under the cipher's active key (secrets:rotate); one report per column. */
  async reencryptSecrets(cipher: SecretCipher): Promise<RotationReport[]> {
    const report = await reencryptColumn(this.dataSource, this.audit, cipher, {
      table: 'otp_configs',
      column: 'secret',
    });
    return report ? [report] : [];
  }
}

/** The checked shape of a new configuration; the DTO has validated every field already. */
export function newConfigFrom(dto: OtpParametersDto, secret: Buffer | undefined, isActive = true): NewConfig {
  const otpType = dto.otp_type ?? 'totp';
  const algorithm = dto.algorithm ?? 'sha1';
  return {
    name: dto.name,
    otpType,
    algorithm,
    digits: (dto.digits ?? 6) as OtpDigits,
    period: otpType === 'totp' ? (dto.interval ?? DEFAULT_PERIOD) : null,
    counter: otpType === 'hotp' ? (dto.counter ?? 0) : null,
    issuer: dto.issuer || null,
    accountName: dto.account_name || null,
    secret: secret ?? randomSecret(defaultSecretBytes(algorithm)),
    isActive,
  };
}
