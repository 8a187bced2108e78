import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import type { ClientPrincipal, UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import type { Page, PageQueryDto } from '#src/common/pagination.dto.js';
import { ProblemException, SECRET_UNREADABLE } from '#src/common/problem.js';
import { currentRequestContext } from '#src/common/request-context.js';
import { randomSecret } from '#src/crypto/random.js';
import { SecretCipher } from '#src/crypto/secret-cipher.js';
import { decodeBase32, encodeBase32 } from '#src/otp/base32.js';
import { MetricsRegistry } from '#src/metrics/metrics-registry.js';
import { generateTotp, type OtpAlgorithm, type OtpDigits } from '#src/otp/otp-engine.js';
import {
  CreatedUsageKeyDto,
  CreateUsageKeyDto,
  ImportItemResultDto,
  ImportUsageKeysDto,
  ImportUsageKeysResultDto,
  KeyCodeResponseDto,
  KeyInfoResponseDto,
  KeyValidateResponseDto,
  ListUsageKeysQueryDto,
  UpdateUsageKeyDto,
  UsageInfoDto,
  UsageKeyEventDto,
  UsageKeyResponseDto,
} from './dto/usage-key.dto.js';
import { UsageKeyEvent, type UsageKeyOutcome } from './usage-key-event.entity.js';
import { ImportEntry, keyState, parseImportEntry, remainingUses } from './usage-key-rules.js';
import { UsageKey } from './usage-key.entity.js';

/** Who acts on a key: a signed-in person, an enterprise client, or the operator's command line. */
export type KeyActor = UserPrincipal | ClientPrincipal | { kind: 'system' };

/** Entries one import may hold. */
export const MAX_IMPORT_ENTRIES = 10_000;
const IMPORT_CHUNK = 500;
/** Generated secrets match the HMAC output size (RFC 4226 §4 R6). */
const SECRET_BYTES: Record<OtpAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

const notFound = (name: string): ProblemException =>
  new ProblemException(HttpStatus.NOT_FOUND, 'KEY_NOT_FOUND', `No key named "${name}".`);

interface UsedKeyRow {
  id: string;
  secret: string;
  algorithm: OtpAlgorithm;
  digits: number;
  period: number;
  max_uses: number;
  usage_count: number;
}

type UseResult =
  | { ok: true; row: UsedKeyRow }
  | { ok: false; outcome: 'missing' }
  | { ok: false; outcome: Exclude<UsageKeyOutcome, 'used'>; usage: UsageInfoDto; expiresAt: Date | null };

function actorOf(actor: KeyActor): { actorType: 'user' | 'api_key' | 'system'; actorId: string | null } {
  if (actor.kind === 'user') return { actorType: 'user', actorId: actor.userId };
  if (actor.kind === 'api_key') return { actorType: 'api_key', actorId: actor.apiKeyId };
  return { actorType: 'system', actorId: null };
}

function usageInfo(key: { maxUses: number; usageCount: number }): UsageInfoDto {
  return { max_uses: key.maxUses, usage_count: key.usageCount, remaining_uses: remainingUses(key) };
}

@Injectable()
export class UsageKeysService {
  constructor(
    @InjectRepository(UsageKey) private readonly keys: Repository<UsageKey>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly cipher: SecretCipher,
    private readonly metrics: MetricsRegistry,
  ) {}

  // ---- use ---------------------------------------------------------------------------------

  /**
   * Consumes one use and answers the current code. The use, its event and its audit record
   * commit together; the limit is enforced by the one UPDATE, so concurrent callers never
   * get more codes than `max_uses`. A refusal is recorded too, then answered as a problem.
   */
  async useKey(name: string, actor: KeyActor): Promise<KeyCodeResponseDto> {
    const now = this.clock.now();
    const { actorType, actorId } = actorOf(actor);
    const ip = currentRequestContext()?.ip ?? null;
    // The use, its event and its audit record are one statement: atomic, and one round trip.
    const audit = this.audit.insertFrom(
      'used',
      { ...actorOf(actor), action: 'usage_key.use', resource: 'usage_key', status: 'success', details: { name } },
      6,
      { resourceId: 'id', details: "jsonb_build_object('usage_count', usage_count, 'max_uses', max_uses)" },
    );
    const used: UsedKeyRow[] = await this.dataSource.query(
      `WITH used AS (
         UPDATE usage_keys SET usage_count = usage_count + 1, last_used_at = $2
          WHERE name = $1 AND (max_uses = -1 OR usage_count < max_uses) AND (expires_at IS NULL OR expires_at > $2)
          RETURNING id, secret, algorithm, digits, period, max_uses, usage_count
       ), event AS (
         INSERT INTO usage_key_events (key_id, outcome, actor_type, actor_id, usage_count, ip, created_at)
         SELECT id, 'used', $3, $4, usage_count, $5, $2 FROM used
       ), audit AS (${audit.sql})
       SELECT * FROM used`,
      [name, now, actorType, actorId, ip, ...audit.params],
    );
    const result: UseResult =
      used.length === 1 ? { ok: true, row: used[0] } : await this.recordRefusal(name, actor, now);

    this.metrics.keyUse(result.ok ? 'used' : result.outcome === 'missing' ? 'unknown' : result.outcome);
    if (!result.ok) {
      if (result.outcome === 'missing') throw notFound(name);
      if (result.outcome === 'expired') {
        throw new ProblemException(HttpStatus.CONFLICT, 'KEY_EXPIRED', `The key "${name}" has expired.`, {
          key: name,
          expires_at: result.expiresAt?.toISOString() ?? null,
          usage_info: result.usage,
        });
      }
      throw new ProblemException(HttpStatus.CONFLICT, 'KEY_DEPLETED', `The key "${name}" has no uses left.`, {
        key: name,
        usage_info: result.usage,
      });
    }
    const { row } = result;
    let secret: Buffer;
    try {
      secret = this.cipher.decrypt(row.secret);
    } catch (error) {
      await this.giveBackUse(row, name, actor, now);
      throw error; // answered 409 SECRET_UNREADABLE
    }
    const totp = generateTotp({
      secret,
      algorithm: row.algorithm,
      digits: row.digits as OtpDigits,
      period: row.period,
      now: now.getTime(),
    });
    return {
      success: true,
      key: name,
      code: totp.code,
      remaining_seconds: totp.remainingSeconds,
      usage_info: usageInfo({ maxUses: row.max_uses, usageCount: row.usage_count }),
    };
  }

  /** Whether the key would yield a code now; consumes nothing. */
  async validate(name: string): Promise<KeyValidateResponseDto> {
    const key = await this.keys.findOne({ where: { name } });
    if (!key) throw notFound(name);
    const status = keyState(key, this.clock.now());
    return { key: name, valid: status === 'active', status, usage_info: usageInfo(key) };
  }

  /** The reference manager's `info`: an unknown key answers `exists: false`. */
  async info(name: string): Promise<KeyInfoResponseDto> {
    const key = await this.keys.findOne({ where: { name } });
    if (!key) return { key: name, exists: false };
    return {
      key: name,
      exists: true,
      max_uses: key.maxUses,
      usage_count: key.usageCount,
      remaining_uses: remainingUses(key),
      is_valid: keyState(key, this.clock.now()) === 'active',
      last_used: key.lastUsedAt?.toISOString() ?? null,
      created_at: key.createdAt.toISOString(),
      expires_at: key.expiresAt?.toISOString() ?? null,
    };
  }

  // ---- administration ----------------------------------------------------------------------

  /** Creates a key; its secret is in this answer only. */
  async create(dto: CreateUsageKeyDto, actor: KeyActor): Promise<CreatedUsageKeyDto> {
    const algorithm = dto.algorithm ?? 'sha1';
    const secret = dto.secret ? decodeBase32(dto.secret) : randomSecret(SECRET_BYTES[algorithm]);
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      let key: UsageKey;
      try {
        key = await manager.save(
          manager.create(UsageKey, {
            name: dto.name,
            secret: this.cipher.encrypt(secret),
            algorithm,
            digits: dto.digits ?? 6,
            period: dto.period ?? 30,
            maxUses: dto.max_uses ?? 1,
            usageCount: 0,
            expiresAt: dto.expires_at ?? null,
            createdBy: actorOf(actor).actorId,
            createdAt: now,
            updatedAt: now,
          }),
        );
      } catch (error) {
        if ((error as QueryFailedError & { constraint?: string }).constraint === 'UQ_usage_keys_name') {
          throw new ProblemException(HttpStatus.CONFLICT, 'KEY_EXISTS', `A key named "${dto.name}" already exists.`);
        }
        throw error;
      }
      await this.record(manager, actor, 'usage_key.create', key.id, 'success', {
        name: key.name,
        max_uses: key.maxUses,
        expires_at: key.expiresAt?.toISOString() ?? null,
        secret_source: dto.secret ? 'imported' : 'generated',
      });
      return { ...this.toResponse(key, now), secret: encodeBase32(secret) };
    });
  }

  async list(query: ListUsageKeysQueryDto): Promise<Page<UsageKeyResponseDto>> {
    const now = this.clock.now();
    const qb = this.keys.createQueryBuilder('k').orderBy('k.name', 'ASC').take(query.limit).skip(query.offset);
    const expired = 'k.expires_at IS NOT NULL AND k.expires_at <= :now';
    const spent = 'k.max_uses <> -1 AND k.usage_count >= k.max_uses';
    if (query.status === 'expired') qb.where(expired, { now });
    if (query.status === 'depleted') qb.where(`NOT (${expired}) AND ${spent}`, { now });
    if (query.status === 'active') qb.where(`NOT (${expired}) AND NOT (${spent})`, { now });
    const [rows, total] = await qb.getManyAndCount();
    return { items: rows.map((k) => this.toResponse(k, now)), total, limit: query.limit, offset: query.offset };
  }

  async get(name: string): Promise<UsageKeyResponseDto> {
    const key = await this.keys.findOne({ where: { name } });
    if (!key) throw notFound(name);
    return this.toResponse(key, this.clock.now());
  }

  /** Sets the limit and/or the expiry; the count is kept (a limit under it leaves the key depleted). */
  async update(name: string, dto: UpdateUsageKeyDto, actor: KeyActor): Promise<UsageKeyResponseDto> {
    if (dto.max_uses === undefined && dto.expires_at === undefined) {
      throw new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Nothing to change.', {
        errors: [{ field: 'max_uses', messages: ['give max_uses and/or expires_at'] }],
      });
    }
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(UsageKey, { where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw notFound(name);
      const changes: Record<string, unknown> = {};
      if (dto.max_uses !== undefined) {
        changes.max_uses = { from: key.maxUses, to: dto.max_uses };
        key.maxUses = dto.max_uses;
      }
      if (dto.expires_at !== undefined) {
        changes.expires_at = { from: key.expiresAt?.toISOString() ?? null, to: dto.expires_at?.toISOString() ?? null };
        key.expiresAt = dto.expires_at;
      }
      key.updatedAt = now;
      await manager.update(
        UsageKey,
        { id: key.id },
        { maxUses: key.maxUses, expiresAt: key.expiresAt, updatedAt: now },
      );
      await this.record(manager, actor, 'usage_key.update', key.id, 'success', { name, ...changes });
      return this.toResponse(key, now);
    });
  }

  /** Sets the count back to zero. */
  async reset(name: string, actor: KeyActor): Promise<UsageKeyResponseDto> {
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(UsageKey, { where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw notFound(name);
      const previous = key.usageCount;
      await manager.update(UsageKey, { id: key.id }, { usageCount: 0, updatedAt: now });
      await this.record(manager, actor, 'usage_key.reset', key.id, 'success', { name, previous_usage_count: previous });
      return this.toResponse({ ...key, usageCount: 0, updatedAt: now }, now);
    });
  }

  /** Deletes the key and its usage history (the audit log keeps the record). */
  async delete(name: string, actor: KeyActor): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(UsageKey, { where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw notFound(name);
      await manager.delete(UsageKey, { id: key.id });
      await this.record(manager, actor, 'usage_key.delete', key.id, 'success', {
        name,
        usage_count: key.usageCount,
        max_uses: key.maxUses,
      });
    });
  }

  /** Uses and refusals of one key, newest first. */
  async usage(name: string, query: PageQueryDto): Promise<Page<UsageKeyEventDto>> {
    const key = await this.keys.findOne({ where: { name } });
    if (!key) throw notFound(name);
    const [rows, total] = await this.dataSource.getRepository(UsageKeyEvent).findAndCount({
      where: { keyId: key.id },
      order: { id: 'DESC' },
      take: query.limit,
      skip: query.offset,
    });
    return {
      items: rows.map((e) => ({
        id: e.id,
        outcome: e.outcome,
        actor_type: e.actorType,
        actor_id: e.actorId,
        usage_count: e.usageCount,
        ip: e.ip,
        created_at: e.createdAt.toISOString(),
      })),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /**
   * Imports the reference key file. Every entry is checked on its own: invalid entries are
   * reported and skipped, existing names are skipped (or overwritten with `replace`). The
   * valid entries are then written in one transaction: all of them or, on any database
   * error, none. A dry run reports the same results and writes nothing.
   */
  async import(dto: ImportUsageKeysDto, actor: KeyActor): Promise<ImportUsageKeysResultDto> {
    const names = Object.keys(dto.keys);
    if (names.length > MAX_IMPORT_ENTRIES) {
      throw new ProblemException(
        HttpStatus.BAD_REQUEST,
        'IMPORT_TOO_LARGE',
        `An import holds at most ${MAX_IMPORT_ENTRIES} keys; this one has ${names.length}.`,
      );
    }
    const results = new Map<string, ImportItemResultDto>();
    const entries: ImportEntry[] = [];
    for (const name of names) {
      const parsed = parseImportEntry(name, dto.keys[name]);
      if ('errors' in parsed) results.set(name, { name, status: 'invalid', errors: parsed.errors });
      else entries.push(parsed.entry);
    }
    const dryRun = dto.dry_run ?? false;
    const replace = dto.replace ?? false;
    const now = this.clock.now();

    const write = async (manager: EntityManager): Promise<void> => {
      for (let i = 0; i < entries.length; i += IMPORT_CHUNK) {
        const chunk = entries.slice(i, i + IMPORT_CHUNK);
        const existing = new Set<string>(
          (
            await manager.query(`SELECT name FROM usage_keys WHERE name = ANY($1::varchar[])`, [
              chunk.map((e) => e.name),
            ])
          ).map((row: { name: string }) => row.name),
        );
        const toWrite = chunk.filter((e) => replace || !existing.has(e.name));
        for (const e of chunk) {
          if (!existing.has(e.name)) results.set(e.name, { name: e.name, status: 'created' });
          else if (replace) results.set(e.name, { name: e.name, status: 'replaced' });
          else results.set(e.name, { name: e.name, status: 'skipped', errors: ['a key with this name exists'] });
        }
        if (dryRun || toWrite.length === 0) continue;
        const column = <T>(pick: (e: ImportEntry) => T): T[] => toWrite.map(pick);
        await manager.query(
          `INSERT INTO usage_keys (name, secret, algorithm, digits, period, max_uses, usage_count,
                                   expires_at, last_used_at, created_by, created_at, updated_at)
           SELECT n, s, a, d, p, m, u, x, l, $10, coalesce(c, $11), $11
             FROM unnest($1::varchar[], $2::text[], $3::varchar[], $4::smallint[], $5::int[], $6::int[], $7::int[],
                         $8::timestamptz[], $9::timestamptz[], $12::timestamptz[])
                  AS i(n, s, a, d, p, m, u, x, l, c)
           ON CONFLICT (name) DO UPDATE SET
             secret = excluded.secret, algorithm = excluded.algorithm, digits = excluded.digits,
             period = excluded.period, max_uses = excluded.max_uses, usage_count = excluded.usage_count,
             expires_at = excluded.expires_at, last_used_at = excluded.last_used_at,
             created_at = excluded.created_at, updated_at = excluded.updated_at`,
          [
            column((e) => e.name),
            column((e) => this.cipher.encrypt(e.secret)),
            column((e) => e.algorithm),
            column((e) => e.digits),
            column((e) => e.period),
            column((e) => e.maxUses),
            column((e) => e.usageCount),
            column((e) => e.expiresAt),
            column((e) => e.lastUsedAt),
            actorOf(actor).actorId,
            now,
            column((e) => e.createdAt),
          ],
        );
      }
    };

    if (dryRun) {
      await write(this.dataSource.manager);
    } else {
      await this.dataSource.transaction(async (manager) => {
        // One import at a time, so "skipped because it exists" is decided against a stable set of names.
        await manager.query('SELECT pg_advisory_xact_lock($1)', [IMPORT_LOCK_ID]);
        await write(manager);
        const written = [...results.values()].filter((r) => r.status === 'created' || r.status === 'replaced');
        await this.record(manager, actor, 'usage_key.import', null, 'success', {
          created: written.filter((r) => r.status === 'created').length,
          replaced: written.filter((r) => r.status === 'replaced').length,
          skipped: [...results.values()].filter((r) => r.status === 'skipped').length,
          invalid: [...results.values()].filter((r) => r.status === 'invalid').length,
          names: written.map((r) => r.name),
        });
      });
    }
    const ordered = names.map((name) => results.get(name)!);
    const count = (status: string): number => ordered.filter((r) => r.status === status).length;
    return {
      dry_run: dryRun,
      created: count('created'),
      replaced: count('replaced'),
      skipped: count('skipped'),
      invalid: count('invalid'),
      results: ordered,
    };
  }

  private toResponse(key: UsageKey, now: Date): UsageKeyResponseDto {
    return {
      id: key.id,
      name: key.name,
      algorithm: key.algorithm,
      digits: key.digits,
      period: key.period,
      max_uses: key.maxUses,
      usage_count: key.usageCount,
      remaining_uses: remainingUses(key),
      status: keyState(key, now),
      expires_at: key.expiresAt?.toISOString() ?? null,
      last_used: key.lastUsedAt?.toISOString() ?? null,
      created_at: key.createdAt.toISOString(),
      updated_at: key.updatedAt.toISOString(),
    };
  }

  /** The UPDATE matched nothing: the key is unknown, expired or spent. Records why, in one transaction. */
  private recordRefusal(name: string, actor: KeyActor, now: Date): Promise<UseResult> {
    const { actorType, actorId } = actorOf(actor);
    const ip = currentRequestContext()?.ip ?? null;
    return this.dataSource.transaction(async (manager): Promise<UseResult> => {
      const key = await manager.findOne(UsageKey, { where: { name } });
      if (!key) {
        await this.record(manager, actor, 'usage_key.use', null, 'failure', { name, code: 'KEY_NOT_FOUND' });
        return { ok: false, outcome: 'missing' };
      }
      // The UPDATE matched nothing, so the key is expired or spent (an "active" reading is a reset racing us).
      const outcome = keyState(key, now) === 'expired' ? 'expired' : 'depleted';
      await manager.insert(UsageKeyEvent, {
        keyId: key.id,
        outcome,
        actorType,
        actorId,
        usageCount: key.usageCount,
        ip,
        createdAt: now,
      });
      await this.record(manager, actor, 'usage_key.use', key.id, 'failure', {
        name,
        code: outcome === 'expired' ? 'KEY_EXPIRED' : 'KEY_DEPLETED',
        usage_count: key.usageCount,
        max_uses: key.maxUses,
      });
      return { ok: false, outcome, usage: usageInfo(key), expiresAt: key.expiresAt };
    });
  }

  /**
   * A use whose secret the key ring cannot decrypt gave no code: its count and its event are
   * taken back, and the failure audited (beside the use the same statement recorded).
   */
  private giveBackUse(row: UsedKeyRow, name: string, actor: KeyActor, now: Date): Promise<void> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE usage_keys SET usage_count = usage_count - 1 WHERE id = $1 AND usage_count > 0`, [
        row.id,
      ]);
      await manager.query(
        `DELETE FROM usage_key_events WHERE id = (
           SELECT max(id) FROM usage_key_events
            WHERE key_id = $1 AND outcome = 'used' AND usage_count = $2 AND created_at = $3)`,
        [row.id, row.usage_count, now],
      );
      await this.record(manager, actor, 'usage_key.use', row.id, 'failure', {
        name,
        code: SECRET_UNREADABLE.code,
        usage_count: row.usage_count - 1,
        max_uses: row.max_uses,
      });
    });
  }

  private record(
    manager: EntityManager,
    actor: KeyActor,
    action: string,
    id: string | null,
    status: 'success' | 'failure',
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      { ...actorOf(actor), action, resource: 'usage_key', resourceId: id, status, details },
      manager,
    );
  }
}

/** Arbitrary constant naming the advisory lock that serialises imports. */
const IMPORT_LOCK_ID = 0x0a0d19;
