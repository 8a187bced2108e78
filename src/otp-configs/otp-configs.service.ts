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
import { defaultSecretBytes, type OtpAlgorithm, type OtpDigits } from '#src/otp/otp-engine.js';
import { buildOtpauthUri, InvalidOtpauthUriError, parseOtpauthUri, type OtpType } from '#src/otp/otpauth-uri.js';
import { qrPngDataUrl, qrSvg } from '#src/otp/qr.js';
import {
  CreatedOtpConfigDto,
  CreateOtpConfigDto,
  ImportItemResultDto,
  ImportOtpConfigsDto,
  ImportResultDto,
  ListOtpConfigsQueryDto,
  OtpConfigResponseDto,
  OtpParametersDto,
  OtpQrDto,
  UpdateOtpConfigDto,
} from './dto/otp-config.dto.js';
import { OtpConfig, type OtpConfigWithSecret } from './otp-config.entity.js';
import { toOtpConfigResponse } from './otp-configs.mapper.js';
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

/** What a new configuration is made of, once the input has been checked. */
interface NewConfig {
  name: string;
  otpType: OtpType;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  period: number | null;
  counter: number | null;
  issuer: string | null;
  accountName: string | null;
  secret: Buffer;
  isActive: boolean;
}

/** A person's authenticator accounts: CRUD, secret replacement, enrolment QR and import. Owner-only throughout. */
/** One configuration of its owner, secret included, named as the entity's properties. */
const CONFIG_WITH_SECRET = `SELECT id, owner_id AS "ownerId", name, otp_type AS "otpType", algorithm, digits, period,
    counter, issuer, account_name AS "accountName", secret, is_active AS "isActive",
    last_used_step AS "lastUsedStep", failed_attempts AS "failedAttempts", locked_until AS "lockedUntil",
    created_at AS "createdAt", updated_at AS "updatedAt"
  FROM otp_configs WHERE id = $1 AND owner_id = $2`;

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

  /**
   * Imports existing accounts. Each item is imported whole or not at all; invalid items and
   * duplicates (a name you already use, or repeated in the request) are reported and skipped;
   * the valid ones are written in one transaction.
   */
  async import(me: UserPrincipal, dto: ImportOtpConfigsDto): Promise<ImportResultDto> {
    const items = [
      ...(dto.accounts ?? []).map((account, index) => ({
        source: 'account' as const,
        index,
        parse: () => fromAccount(account),
      })),
      ...(dto.uris ?? []).map((uri, index) => ({ source: 'uri' as const, index, parse: () => fromUri(uri) })),
    ];
    if (items.length === 0) {
      throw new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Give accounts or uris to import.', {
        errors: [{ field: 'accounts', messages: ['accounts or uris must be given'] }],
      });
    }
    return this.dataSource.transaction(async (manager) => {
      const taken = new Set(
        (await manager.find(OtpConfig, { where: { ownerId: me.userId }, select: { name: true } })).map((c) =>
          c.name.toLowerCase(),
        ),
      );
      const results: ImportItemResultDto[] = [];
      for (const item of items) {
        const outcome = item.parse();
        const base = { index: item.index, source: item.source };
        if ('error' in outcome) {
          results.push({ ...base, status: 'invalid', message: outcome.error });
          continue;
        }
        const key = outcome.fields.name.toLowerCase();
        if (taken.has(key)) {
          results.push({
            ...base,
            status: 'duplicate',
            name: outcome.fields.name,
            message: 'That name is already in use.',
          });
          continue;
        }
        taken.add(key);
        const saved = await this.insert(manager, me.userId, outcome.fields);
        results.push({ ...base, status: 'imported', name: saved.name, config_id: saved.id });
      }
      const count = (status: ImportItemResultDto['status']): number =>
        results.filter((r) => r.status === status).length;
      const summary = { imported: count('imported'), duplicates: count('duplicate'), invalid: count('invalid') };
      await this.record(manager, me, 'otp_config.import', null, summary);
      return { ...summary, results };
    });
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

  private async insert(manager: EntityManager, ownerId: string, fields: NewConfig): Promise<OtpConfig> {
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
function newConfigFrom(dto: OtpParametersDto, secret: Buffer | undefined, isActive = true): NewConfig {
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

type Parsed = { fields: NewConfig } | { error: string };

function fromAccount(account: OtpParametersDto & { secret: string }): Parsed {
  return { fields: newConfigFrom(account, decodeBase32(account.secret)) };
}

function fromUri(uri: string): Parsed {
  try {
    const parsed = parseOtpauthUri(uri);
    if (parsed.secret.length < 10) return { error: 'The secret is shorter than 80 bits.' };
    const name = (parsed.issuer ? `${parsed.issuer}:${parsed.accountName}` : parsed.accountName).slice(0, 100);
    return {
      fields: {
        name,
        otpType: parsed.type,
        algorithm: parsed.algorithm,
        digits: parsed.digits,
        period: parsed.type === 'totp' ? parsed.period : null,
        counter: parsed.type === 'hotp' ? parsed.counter : null,
        issuer: parsed.issuer?.slice(0, 100) ?? null,
        accountName: parsed.accountName.slice(0, 100) || null,
        secret: parsed.secret,
        isActive: true,
      },
    };
  } catch (error) {
    if (error instanceof InvalidOtpauthUriError) return { error: error.message };
    throw error;
  }
}
