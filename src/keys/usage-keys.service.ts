import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import { Clock } from '#src/common/clock.js';
import type { Page } from '#src/common/pagination.dto.js';
import { ProblemException } from '#src/common/problem.js';
import { currentRequestContext } from '#src/common/request-context.js';
import { SqlParams } from '#src/common/sql.js';
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
  KeyUsageQueryDto,
  KeyValidateResponseDto,
  ListUsageKeysQueryDto,
  UpdateUsageKeyDto,
  UsageInfoDto,
  UsageKeyEventDto,
  UsageKeyResponseDto,
} from './dto/usage-key.dto.js';
import { UsageKeyEvent, type UsageKeyOutcome } from './usage-key-event.entity.js';
import {
  addressedSpace,
  ADMIN_SPACE,
  KeyActor,
  ownerColumn,
  ownSpace,
  reachesEverySpace,
  UseReach,
  useReach,
} from './usage-key-reach.js';
import { ImportEntry, keyState, parseImportEntry } from './usage-key-rules.js';
import { UsageKey } from './usage-key.entity.js';
import { reencryptColumn, type RotationReport } from '#src/crypto/secret-reencryption.js';
import { toKeyInfoResponse, toUsageKeyEventResponse, toUsageKeyResponse, usageInfo } from './usage-keys.mapper.js';

export type { KeyActor } from './usage-key-reach.js';

/** Entries one import may hold. */
export const MAX_IMPORT_ENTRIES = 10_000;
const IMPORT_CHUNK = 500;
/** Generated secrets match the HMAC output size (RFC 4226 §4 R6). */
const SECRET_BYTES: Record<OtpAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

/** The one answer for a name the caller does not reach, whether it is unknown or another owner's. */
const notFound = (name: string): ProblemException =>
  new ProblemException(HttpStatus.NOT_FOUND, 'KEY_NOT_FOUND', `No key named "${name}".`);

const assignmentProblem = (message: string): ProblemException =>
  new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, {
    errors: [{ field: 'assigned_user_ids', messages: [message] }],
  });

const clientKeyAssignment = (): ProblemException =>
  assignmentProblem("only admin-space keys are assigned to people; an API client's keys are its own");

/**
 * The keys the use routes reach (a UseReach), as a condition on `usage_keys`: `alias` is the
 * table or its alias, `owner` and `assignee` the placeholders of the reach's two values.
 */
const reachCondition = (alias: string, owner: string, assignee: string): string =>
  `coalesce(${alias}.client_id, '') = ${owner} AND (CAST(${assignee} AS uuid) IS NULL OR EXISTS (
     SELECT 1 FROM usage_key_assignments a WHERE a.key_id = ${alias}.id AND a.user_id = CAST(${assignee} AS uuid)))`;

/** Assigned user ids as stored and answered: lower case, once each, sorted. */
const normalizedIds = (ids: readonly string[]): string[] => [...new Set(ids.map((id) => id.toLowerCase()))].sort();

/** The audit details naming an addressed owner, when the caller named one. */
const ownerDetail = (clientId: string | undefined): Record<string, unknown> =>
  clientId === undefined ? {} : { client_id: clientId };

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

/** Key figures: all, limited keys with no uses left (not expired), expired, codes handed out lately. */
export interface UsageKeyFigures {
  total: number;
  depleted: number;
  expired: number;
  uses: number;
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

  /**
   * Figures over every space's keys for metrics/system: totals, depleted and expired at `now`,
   * and the codes handed out since `usesSince`. Two statements, run at once.
   */
  async figures(now: Date, usesSince: Date): Promise<UsageKeyFigures> {
    const [[keys], [uses]] = await Promise.all([
      this.dataSource.query<Array<{ total: number; depleted: number; expired: number }>>(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE max_uses <> -1 AND usage_count >= max_uses
                                   AND (expires_at IS NULL OR expires_at > $1))::int AS depleted,
                count(*) FILTER (WHERE expires_at <= $1)::int AS expired
           FROM usage_keys`,
        [now],
      ),
      this.dataSource.query<Array<{ uses: number }>>(
        `SELECT count(*)::int AS uses FROM usage_key_events WHERE created_at >= $1 AND outcome = 'used'`,
        [usesSince],
      ),
    ]);
    return { ...keys, uses: uses.uses };
  }

  // ---- use ---------------------------------------------------------------------------------

  /**
   * Consumes one use and answers the current code. The use, its event and its audit record
   * commit together; the limit and the caller's reach are enforced by the one UPDATE, so
   * concurrent callers never get more codes than `max_uses` and nobody uses a key they do not
   * reach. A refusal is recorded too, then answered as a problem.
   */
  async useKey(name: string, actor: KeyActor): Promise<KeyCodeResponseDto> {
    const now = this.clock.now();
    const { actorType, actorId } = actorOf(actor);
    const ip = currentRequestContext()?.ip ?? null;
    const reach = useReach(actor);
    // The use, its event and its audit record are one statement: atomic, and one round trip.
    const p = new SqlParams();
    const at = p.add(now);
    const sql = `WITH used AS (
         UPDATE usage_keys SET usage_count = usage_count + 1, last_used_at = ${at}
          WHERE name = ${p.add(name)} AND ${reachCondition('usage_keys', p.add(reach.owner), p.add(reach.assignee))}
            AND (max_uses = -1 OR usage_count < max_uses) AND (expires_at IS NULL OR expires_at > ${at})
          RETURNING id, secret, algorithm, digits, period, max_uses, usage_count
       ), event AS (
         INSERT INTO usage_key_events (key_id, outcome, actor_type, actor_id, usage_count, ip, created_at)
         SELECT id, 'used', ${p.add(actorType)}, ${p.add(actorId)}, usage_count, ${p.add(ip)}, ${at} FROM used
       ), audit AS (${this.audit.insertFrom(
         p,
         'used',
         { ...actorOf(actor), action: 'usage_key.use', resource: 'usage_key', status: 'success', details: { name } },
         { resourceId: 'id', details: "jsonb_build_object('usage_count', usage_count, 'max_uses', max_uses)" },
       )})
       SELECT * FROM used`;
    const used: UsedKeyRow[] = await this.dataSource.query(sql, p.values);
    const result: UseResult =
      used.length === 1 ? { ok: true, row: used[0] } : await this.recordRefusal(name, actor, reach, now);

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
    const totp = generateTotp({
      secret: this.cipher.decrypt(row.secret),
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
  async validate(name: string, actor: KeyActor): Promise<KeyValidateResponseDto> {
    const key = await this.reachable(this.dataSource.manager, name, useReach(actor));
    if (!key) throw await this.refuse(this.dataSource.manager, name, actor, 'usage_key.validate');
    const status = keyState(key, this.clock.now());
    return { key: name, valid: status === 'active', status, usage_info: usageInfo(key) };
  }

  /** The reference manager's `info`: a name the caller does not reach answers `exists: false`. */
  async info(name: string, actor: KeyActor): Promise<KeyInfoResponseDto> {
    const key = await this.reachable(this.dataSource.manager, name, useReach(actor));
    if (!key) {
      await this.refuse(this.dataSource.manager, name, actor, 'usage_key.info');
      return { key: name, exists: false };
    }
    return toKeyInfoResponse(key, name, this.clock.now());
  }

  // ---- administration ----------------------------------------------------------------------

  /** Creates a key in the caller's own space; its secret is in this answer only. */
  async create(dto: CreateUsageKeyDto, actor: KeyActor): Promise<CreatedUsageKeyDto> {
    const space = this.writableSpace(actor);
    if (dto.assigned_user_ids !== undefined && space !== ADMIN_SPACE) throw clientKeyAssignment();
    const assigned = normalizedIds(dto.assigned_user_ids ?? []);
    const algorithm = dto.algorithm ?? 'sha1';
    const secret = dto.secret ? decodeBase32(dto.secret) : randomSecret(SECRET_BYTES[algorithm]);
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      let key: UsageKey;
      try {
        key = await manager.save(
          manager.create(UsageKey, {
            name: dto.name,
            clientId: ownerColumn(space),
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
        if ((error as QueryFailedError & { constraint?: string }).constraint === 'UQ_usage_keys_owner_name') {
          throw new ProblemException(HttpStatus.CONFLICT, 'KEY_EXISTS', `A key named "${dto.name}" already exists.`);
        }
        throw error;
      }
      await this.assign(manager, key.id, assigned);
      await this.record(manager, actor, 'usage_key.create', key.id, 'success', {
        name: key.name,
        client_id: key.clientId,
        max_uses: key.maxUses,
        expires_at: key.expiresAt?.toISOString() ?? null,
        secret_source: dto.secret ? 'imported' : 'generated',
        ...(key.clientId === null ? { assigned_user_ids: assigned } : {}),
      });
      return { ...toUsageKeyResponse(key, now, assigned), secret: encodeBase32(secret) };
    });
  }

  /**
   * Administrators list every key with its owner (filtered by `client_id` or `space`); an API
   * key lists its own client's keys only.
   */
  async list(query: ListUsageKeysQueryDto, actor: KeyActor): Promise<Page<UsageKeyResponseDto>> {
    const now = this.clock.now();
    const qb = this.keys
      .createQueryBuilder('k')
      .orderBy('k.name', 'ASC')
      .addOrderBy('k.clientId', 'ASC', 'NULLS FIRST')
      .take(query.limit)
      .skip(query.offset);
    if (actor.kind === 'api_key') qb.andWhere('k.client_id = :own', { own: actor.clientId });
    else if (!reachesEverySpace(actor)) qb.andWhere('false');
    if (query.client_id !== undefined) qb.andWhere('k.client_id = :client', { client: query.client_id });
    if (query.space === 'admin') qb.andWhere('k.client_id IS NULL');
    if (query.space === 'client') qb.andWhere('k.client_id IS NOT NULL');
    const expired = 'k.expires_at IS NOT NULL AND k.expires_at <= :now';
    const spent = 'k.max_uses <> -1 AND k.usage_count >= k.max_uses';
    if (query.status === 'expired') qb.andWhere(expired, { now });
    if (query.status === 'depleted') qb.andWhere(`NOT (${expired}) AND ${spent}`, { now });
    if (query.status === 'active') qb.andWhere(`NOT (${expired}) AND NOT (${spent})`, { now });
    const [rows, total] = await qb.getManyAndCount();
    const assigned = await this.assignees(this.dataSource.manager, rows);
    return {
      items: rows.map((k) => toUsageKeyResponse(k, now, assigned.get(k.id) ?? [])),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }

  async get(name: string, actor: KeyActor, clientId?: string): Promise<UsageKeyResponseDto> {
    const manager = this.dataSource.manager;
    const key = await this.addressed(manager, name, actor, clientId);
    if (!key) throw await this.refuseMissing(name, actor, 'usage_key.get', clientId);
    return toUsageKeyResponse(key, this.clock.now(), (await this.assignees(manager, [key])).get(key.id) ?? []);
  }

  /**
   * Sets the limit, the expiry and/or who the key is assigned to; the count is kept (a limit
   * under it leaves the key depleted).
   */
  async update(name: string, dto: UpdateUsageKeyDto, actor: KeyActor, clientId?: string): Promise<UsageKeyResponseDto> {
    if (dto.max_uses === undefined && dto.expires_at === undefined && dto.assigned_user_ids === undefined) {
      throw new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Nothing to change.', {
        errors: [{ field: 'max_uses', messages: ['give max_uses, expires_at and/or assigned_user_ids'] }],
      });
    }
    const space = addressedSpace(actor, clientId);
    if (dto.assigned_user_ids !== undefined && space !== null && space !== ADMIN_SPACE) {
      throw clientKeyAssignment();
    }
    const now = this.clock.now();
    const updated = await this.dataSource.transaction(async (manager) => {
      const key = await this.addressed(manager, name, actor, clientId, true);
      if (!key) return null;
      const changes: Record<string, unknown> = {};
      if (dto.max_uses !== undefined) {
        changes.max_uses = { from: key.maxUses, to: dto.max_uses };
        key.maxUses = dto.max_uses;
      }
      if (dto.expires_at !== undefined) {
        changes.expires_at = { from: key.expiresAt?.toISOString() ?? null, to: dto.expires_at?.toISOString() ?? null };
        key.expiresAt = dto.expires_at;
      }
      let assigned = (await this.assignees(manager, [key])).get(key.id) ?? [];
      if (dto.assigned_user_ids !== undefined) {
        const next = normalizedIds(dto.assigned_user_ids);
        changes.assigned_user_ids = { from: assigned, to: next };
        await manager.query('DELETE FROM usage_key_assignments WHERE key_id = $1', [key.id]);
        await this.assign(manager, key.id, next);
        assigned = next;
      }
      key.updatedAt = now;
      await manager.update(
        UsageKey,
        { id: key.id },
        { maxUses: key.maxUses, expiresAt: key.expiresAt, updatedAt: now },
      );
      await this.record(manager, actor, 'usage_key.update', key.id, 'success', {
        name,
        client_id: key.clientId,
        ...changes,
      });
      return toUsageKeyResponse(key, now, assigned);
    });
    if (!updated) throw await this.refuseMissing(name, actor, 'usage_key.update', clientId);
    return updated;
  }

  /** Sets the count back to zero. */
  async reset(name: string, actor: KeyActor, clientId?: string): Promise<UsageKeyResponseDto> {
    const now = this.clock.now();
    const reset = await this.dataSource.transaction(async (manager) => {
      const key = await this.addressed(manager, name, actor, clientId, true);
      if (!key) return null;
      const previous = key.usageCount;
      await manager.update(UsageKey, { id: key.id }, { usageCount: 0, updatedAt: now });
      await this.record(manager, actor, 'usage_key.reset', key.id, 'success', {
        name,
        client_id: key.clientId,
        previous_usage_count: previous,
      });
      const assigned = (await this.assignees(manager, [key])).get(key.id) ?? [];
      return toUsageKeyResponse({ ...key, usageCount: 0, updatedAt: now }, now, assigned);
    });
    if (!reset) throw await this.refuseMissing(name, actor, 'usage_key.reset', clientId);
    return reset;
  }

  /** Deletes the key, its usage history and its assignments (the audit log keeps the record). */
  async delete(name: string, actor: KeyActor, clientId?: string): Promise<void> {
    const deleted = await this.dataSource.transaction(async (manager) => {
      const key = await this.addressed(manager, name, actor, clientId, true);
      if (!key) return false;
      await manager.delete(UsageKey, { id: key.id });
      await this.record(manager, actor, 'usage_key.delete', key.id, 'success', {
        name,
        client_id: key.clientId,
        usage_count: key.usageCount,
        max_uses: key.maxUses,
      });
      return true;
    });
    if (!deleted) throw await this.refuseMissing(name, actor, 'usage_key.delete', clientId);
  }

  /** Uses and refusals of one key, newest first. */
  async usage(name: string, query: KeyUsageQueryDto, actor: KeyActor): Promise<Page<UsageKeyEventDto>> {
    const key = await this.addressed(this.dataSource.manager, name, actor, query.client_id);
    if (!key) throw await this.refuseMissing(name, actor, 'usage_key.history', query.client_id);
    const [rows, total] = await this.dataSource.getRepository(UsageKeyEvent).findAndCount({
      where: { keyId: key.id },
      order: { id: 'DESC' },
      take: query.limit,
      skip: query.offset,
    });
    return {
      items: rows.map(toUsageKeyEventResponse),
      total,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /**
   * Imports the reference key file into the caller's own space. Every entry is checked on its
   * own: invalid entries are reported and skipped, names that exist in that space are skipped
   * (or overwritten with `replace`; another owner's key of the same name is never touched). The
   * valid entries are then written in one transaction: all of them or, on any database error,
   * none. A dry run reports the same results and writes nothing.
   */
  async import(dto: ImportUsageKeysDto, actor: KeyActor): Promise<ImportUsageKeysResultDto> {
    const space = this.writableSpace(actor);
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
            await manager.query(
              `SELECT name FROM usage_keys WHERE name = ANY($1::varchar[]) AND coalesce(client_id, '') = $2`,
              [chunk.map((e) => e.name), space],
            )
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
        // The conflict target is the per-owner unique index: `replace` only ever meets the caller's own keys.
        await manager.query(
          `INSERT INTO usage_keys (name, client_id, secret, algorithm, digits, period, max_uses, usage_count,
                                   expires_at, last_used_at, created_by, created_at, updated_at)
           SELECT n, $13, s, a, d, p, m, u, x, l, $10, coalesce(c, $11), $11
             FROM unnest($1::varchar[], $2::text[], $3::varchar[], $4::smallint[], $5::int[], $6::int[], $7::int[],
                         $8::timestamptz[], $9::timestamptz[], $12::timestamptz[])
                  AS i(n, s, a, d, p, m, u, x, l, c)
           ON CONFLICT (name, (coalesce(client_id, ''))) DO UPDATE SET
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
            ownerColumn(space),
          ],
        );
      }
    };

    if (dryRun) {
      await write(this.dataSource.manager);
    } else {
      await this.dataSource.transaction(async (manager) => {
        // One import per owner at a time, so "skipped because it exists" is decided against a stable set of names.
        await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [IMPORT_LOCK_ID, space]);
        await write(manager);
        const written = [...results.values()].filter((r) => r.status === 'created' || r.status === 'replaced');
        await this.record(manager, actor, 'usage_key.import', null, 'success', {
          client_id: ownerColumn(space),
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

  // ---- tenancy -----------------------------------------------------------------------------

  /** The caller's own space, where it creates and imports (people without the admin role have none). */
  private writableSpace(actor: KeyActor): string {
    const space = ownSpace(actor);
    if (space === null) {
      throw new ProblemException(HttpStatus.FORBIDDEN, 'FORBIDDEN', 'Only administrators and API keys manage keys.');
    }
    return space;
  }

  /** The key a use route means: the caller's reach, in the same statement as the read. */
  private reachable(manager: EntityManager, name: string, reach: UseReach): Promise<UsageKey | null> {
    return manager
      .createQueryBuilder(UsageKey, 'k')
      .where('k.name = :name', { name })
      .andWhere(reachCondition('k', ':owner', ':assignee'), { owner: reach.owner, assignee: reach.assignee })
      .getOne();
  }

  /** The key an admin route means: by name in the addressed space (see addressedSpace). */
  private async addressed(
    manager: EntityManager,
    name: string,
    actor: KeyActor,
    clientId: string | undefined,
    lock = false,
  ): Promise<UsageKey | null> {
    const space = addressedSpace(actor, clientId);
    if (space === null) return null;
    const qb = manager
      .createQueryBuilder(UsageKey, 'k')
      .where('k.name = :name', { name })
      .andWhere(`coalesce(k.client_id, '') = :space`, { space });
    if (lock) qb.setLock('pessimistic_write');
    return qb.getOne();
  }

  /** Who each admin-space key is assigned to (client keys are never assigned: no read for them). */
  private async assignees(manager: EntityManager, keys: UsageKey[]): Promise<Map<string, string[]>> {
    const ids = keys.filter((k) => k.clientId === null).map((k) => k.id);
    const byKey = new Map<string, string[]>();
    if (ids.length === 0) return byKey;
    const rows: Array<{ key_id: string; user_id: string }> = await manager.query(
      `SELECT key_id, user_id FROM usage_key_assignments WHERE key_id = ANY($1::uuid[]) ORDER BY key_id, user_id`,
      [ids],
    );
    for (const row of rows) byKey.set(row.key_id, [...(byKey.get(row.key_id) ?? []), row.user_id]);
    return byKey;
  }

  /** Hands a key to people; an id that names nobody is a 400 (the foreign key refuses it). */
  private async assign(manager: EntityManager, keyId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    try {
      await manager.query('INSERT INTO usage_key_assignments (key_id, user_id) SELECT $1, unnest($2::uuid[])', [
        keyId,
        userIds,
      ]);
    } catch (error) {
      if ((error as QueryFailedError & { constraint?: string }).constraint === 'FK_usage_key_assignments_user') {
        throw assignmentProblem('every assigned user id must name an existing user');
      }
      throw error;
    }
  }

  /**
   * Records a name the caller did not reach and answers the one 404 every such name gets. A
   * caller that does not reach every space and names another owner's key (the name exists
   * elsewhere, or an API key named another client) is recorded as `authz.denied`; otherwise,
   * with `recordMissing`, as the attempted action's not-found failure.
   */
  private async refuse(
    manager: EntityManager,
    name: string,
    actor: KeyActor,
    attempted: string,
    options: { clientId?: string; recordMissing?: boolean } = {},
  ): Promise<ProblemException> {
    const { clientId, recordMissing = false } = options;
    const details = { name, code: 'KEY_NOT_FOUND', ...ownerDetail(clientId) };
    if (!reachesEverySpace(actor)) {
      const namedOtherClient = actor.kind === 'api_key' && clientId !== undefined && clientId !== actor.clientId;
      if (namedOtherClient || (await this.nameExists(manager, name))) {
        await this.audit.record(
          {
            ...actorOf(actor),
            action: 'authz.denied',
            resource: 'usage_key',
            status: 'failure',
            details: { ...details, attempted },
          },
          manager,
        );
        return notFound(name);
      }
    }
    if (recordMissing) await this.record(manager, actor, attempted, null, 'failure', details);
    return notFound(name);
  }

  /** An admin route's 404, recorded (see refuse). */
  private refuseMissing(
    name: string,
    actor: KeyActor,
    attempted: string,
    clientId?: string,
  ): Promise<ProblemException> {
    return this.refuse(this.dataSource.manager, name, actor, attempted, { clientId, recordMissing: true });
  }

  private async nameExists(manager: EntityManager, name: string): Promise<boolean> {
    const rows: unknown[] = await manager.query('SELECT 1 FROM usage_keys WHERE name = $1 LIMIT 1', [name]);
    return rows.length > 0;
  }

  /**
   * The UPDATE matched nothing: the key is unknown to the caller, expired or spent. Records
   * why, in one transaction.
   */
  private recordRefusal(name: string, actor: KeyActor, reach: UseReach, now: Date): Promise<UseResult> {
    const { actorType, actorId } = actorOf(actor);
    const ip = currentRequestContext()?.ip ?? null;
    return this.dataSource.transaction(async (manager): Promise<UseResult> => {
      const key = await this.reachable(manager, name, reach);
      if (!key) {
        await this.refuse(manager, name, actor, 'usage_key.use', { recordMissing: true });
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

  /** Re-encrypts the keys' secrets under the cipher's active key (secrets:rotate); one report per column. */
  async reencryptSecrets(cipher: SecretCipher): Promise<RotationReport[]> {
    const report = await reencryptColumn(this.dataSource, this.audit, cipher, {
      table: 'usage_keys',
      column: 'secret',
    });
    return report ? [report] : [];
  }
}

/** Arbitrary constant naming the advisory lock that serialises imports. */
const IMPORT_LOCK_ID = 0x0a0d19;
