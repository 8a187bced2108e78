import { HttpStatus, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import type { Page, PageQueryDto } from '#src/common/pagination.dto.js';
import { ProblemException } from '#src/common/problem.js';
import type { ClientPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { InvalidatedCache, InvalidationChannel } from '#src/database/invalidation-channel.js';
import { AUTH_CACHE_MAX_ENTRIES } from '#src/common/auth/auth-cache-limits.js';
import { generateApiKey, hashApiKey } from './api-key-format.js';
import { ApiKeyUsage } from './api-key-usage.js';
import { API_KEY_SCOPES, ApiKey, type ApiKeyScope } from './api-key.entity.js';
import { ApiKeyResponseDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto.js';
import { toApiKeyResponse } from './api-keys.mapper.js';

/** The client a key given in the API_KEY setting acts for. */
export const DEFAULT_CLIENT_ID = 'default';

const notFound = (): ProblemException =>
  new ProblemException(HttpStatus.NOT_FOUND, 'API_KEY_NOT_FOUND', 'No such API key.');

/** Who changes a key: an administrator over the API, or the operator's command line. */
export type ActorRef = UserPrincipal | { kind: 'system' };

/** What authentication needs of a live key: cached by the key's hash, never the key itself. */
type LiveKey = Readonly<Pick<ApiKey, 'id' | 'clientId' | 'expiresAt'> & { scopes: readonly ApiKeyScope[] }>;

export type ApiKeyAuthentication =
  | { ok: true; principal: ClientPrincipal }
  | { ok: false; reason: 'unknown' | 'revoked' | 'expired'; apiKeyId?: string };

@Injectable()
export class ApiKeysService implements OnApplicationBootstrap {
  /** Live keys by hash; a revocation, rotation or change drops the entry on every instance (see InvalidationChannel). */
  private readonly liveKeys: InvalidatedCache<LiveKey>;

  constructor(
    @InjectRepository(ApiKey) private readonly apiKeys: Repository<ApiKey>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly usage: ApiKeyUsage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    invalidation: InvalidationChannel,
  ) {
    this.liveKeys = invalidation.cache({
      maxEntries: AUTH_CACHE_MAX_ENTRIES,
      ttlMs: config.authCacheTtlMs,
      now: () => clock.now().getTime(),
    });
  }

  /** Figures for metrics/system: keys neither revoked nor expired at `now`. One statement. */
  async figures(now: Date): Promise<{ active: number }> {
    const [row] = await this.dataSource.query<Array<{ active: number }>>(
      `SELECT count(*)::int AS active FROM api_keys
        WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)`,
      [now],
    );
    return row;
  }

  /** Issues a key; its secret is in this answer only. */
  async create(dto: CreateApiKeyDto, actor: ActorRef): Promise<CreatedApiKeyDto> {
    const generated = generateApiKey();
    return this.dataSource.transaction(async (manager) => {
      const key = await manager.save(
        manager.create(ApiKey, {
          name: dto.name,
          clientId: dto.client_id,
          scopes: dto.scopes,
          expiresAt: dto.expires_at ?? null,
          prefix: generated.prefix,
          keyHash: generated.hash,
          createdBy: actor.kind === 'user' ? actor.userId : null,
        }),
      );
      await this.record(manager, actor, 'api_key.create', key.id, { client_id: key.clientId, scopes: key.scopes });
      return { ...toApiKeyResponse(key, this.clock.now()), key: generated.key };
    });
  }

  async list(query: PageQueryDto): Promise<Page<ApiKeyResponseDto>> {
    await this.usage.flush();
    const [rows, total] = await this.apiKeys.findAndCount({
      order: { createdAt: 'DESC', id: 'ASC' },
      take: query.limit,
      skip: query.offset,
    });
    const now = this.clock.now();
    return { items: rows.map((k) => toApiKeyResponse(k, now)), total, limit: query.limit, offset: query.offset };
  }

  async get(id: string): Promise<ApiKeyResponseDto> {
    await this.usage.flush();
    const key = await this.apiKeys.findOne({ where: { id } });
    if (!key) throw notFound();
    return toApiKeyResponse(key, this.clock.now());
  }

  /** A new secret for the same key (name, client, scopes); the old secret stops working at once. */
  async rotate(id: string, actor: ActorRef): Promise<CreatedApiKeyDto> {
    const generated = generateApiKey();
    return this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(ApiKey, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw notFound();
      if (key.revokedAt) {
        throw new ProblemException(HttpStatus.CONFLICT, 'API_KEY_REVOKED', 'A revoked key cannot be rotated.');
      }
      Object.assign(key, { prefix: generated.prefix, keyHash: generated.hash });
      await manager.save(key);
      await this.record(manager, actor, 'api_key.rotate', key.id, { client_id: key.clientId });
      return { ...toApiKeyResponse(key, this.clock.now()), key: generated.key };
    });
  }

  async revoke(id: string, actor: ActorRef): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(ApiKey, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw notFound();
      if (!key.revokedAt) await manager.update(ApiKey, { id }, { revokedAt: this.clock.now() });
      await this.record(manager, actor, 'api_key.revoke', id, { client_id: key.clientId });
    });
  }

  /** A key set in API_KEY is registered (by its hash) for the default client with every client scope. */
  async onApplicationBootstrap(): Promise<void> {
    const key = this.config.bootstrapApiKey;
    if (!key) return;
    const keyHash = hashApiKey(key);
    await this.dataSource.transaction(async (manager) => {
      if (await manager.exists(ApiKey, { where: { keyHash } })) return;
      const created = await manager.save(
        manager.create(ApiKey, {
          name: 'API_KEY setting',
          clientId: DEFAULT_CLIENT_ID,
          scopes: API_KEY_SCOPES.filter((scope) => scope !== 'keys:admin'),
          prefix: `env_${keyHash.slice(0, 8)}`,
          keyHash,
        }),
      );
      await this.record(manager, { kind: 'system' }, 'api_key.bootstrap', created.id, { client_id: DEFAULT_CLIENT_ID });
    });
    new Logger('ApiKeys').log(`API key from the API_KEY setting registered for client "${DEFAULT_CLIENT_ID}"`);
  }

  private record(
    manager: EntityManager,
    actor: ActorRef,
    action: string,
    id: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.audit.record(
      {
        actorType: actor.kind === 'user' ? 'user' : 'system',
        actorId: actor.kind === 'user' ? actor.userId : null,
        action,
        resource: 'api_key',
        resourceId: id,
        status: 'success',
        details,
      },
      manager,
    );
  }

  /**
   * Resolves a presented key to its client and counts the use. A read, not a write: the use
   * is counted in memory and flushed in batches, so a busy key does not serialise its callers.
   * A live key is read once and then served from memory until it changes.
   */
  async authenticate(rawKey: string): Promise<ApiKeyAuthentication> {
    const now = this.clock.now();
    const keyHash = hashApiKey(rawKey);
    let key: LiveKey | undefined = this.liveKeys.get(keyHash);
    if (!key) {
      const ticket = this.liveKeys.ticket();
      const row = await this.apiKeys.findOne({
        where: { keyHash },
        select: { id: true, clientId: true, scopes: true, revokedAt: true, expiresAt: true },
      });
      if (!row) return { ok: false, reason: 'unknown' };
      if (row.revokedAt) return { ok: false, reason: 'revoked', apiKeyId: row.id };
      // Frozen: one entry answers many requests, none of which may change it for the next.
      key = Object.freeze({
        id: row.id,
        clientId: row.clientId,
        scopes: Object.freeze([...row.scopes]),
        expiresAt: row.expiresAt,
      });
      this.liveKeys.set(keyHash, key, [`api_key:${key.id}`], ticket);
    }
    // Expiry is a time, not a change: judged on every request, cached or not.
    if (key.expiresAt && key.expiresAt <= now) return { ok: false, reason: 'expired', apiKeyId: key.id };
    this.usage.record(key.id, now);
    return { ok: true, principal: { kind: 'api_key', apiKeyId: key.id, clientId: key.clientId, scopes: key.scopes } };
  }
}
