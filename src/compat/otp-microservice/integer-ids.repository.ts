import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';

/** Postgres: the row a foreign key names is gone (a configuration deleted meanwhile). */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The integer ids the replaced microservice's clients use, mapped to the service's uuids:
 * users by one global number, OTP configurations by a number per owner. A number is given
 * the first time an object is answered through these routes, in one statement (concurrent
 * first sights agree on one), and never reused. Only objects a service has already answered
 * to their owner are numbered, so a number never names another person's object.
 */
@Injectable()
export class IntegerIdsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The user's number, given now if it has none. */
  async userNumber(userId: string): Promise<number> {
    const rows: Array<{ number: number }> = await this.dataSource.query(
      `WITH given AS (
         INSERT INTO compat_user_numbers (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING RETURNING number
       )
       SELECT number FROM given UNION ALL SELECT number FROM compat_user_numbers WHERE user_id = $1`,
      [userId],
    );
    // A concurrent first sight committed after this statement's snapshot: its number is there now.
    return rows[0]?.number ?? (await this.existingUserNumbers([userId])).get(userId)!;
  }

  /** Numbers users already have (an audit record's actor may never have used these routes). */
  async existingUserNumbers(userIds: string[]): Promise<Map<string, number>> {
    if (userIds.length === 0) return new Map();
    const rows: Array<{ user_id: string; number: number }> = await this.dataSource.query(
      `SELECT user_id, number FROM compat_user_numbers WHERE user_id = ANY($1::uuid[])`,
      [userIds],
    );
    return new Map(rows.map((r) => [r.user_id, r.number]));
  }

  /** The owner's configuration with this number, if any (another owner's number finds nothing). */
  async configIdOf(ownerId: string, number: number): Promise<string | null> {
    const rows: Array<{ config_id: string }> = await this.dataSource.query(
      `SELECT config_id FROM compat_config_numbers WHERE owner_id = $1 AND number = $2`,
      [ownerId, number],
    );
    return rows[0]?.config_id ?? null;
  }

  /** The owner's configurations with these numbers, by number. */
  async configIdsOf(ownerId: string, numbers: number[]): Promise<Map<number, string>> {
    const rows: Array<{ config_id: string; number: number }> = await this.dataSource.query(
      `SELECT config_id, number FROM compat_config_numbers WHERE owner_id = $1 AND number = ANY($2::int[])`,
      [ownerId, numbers],
    );
    return new Map(rows.map((r) => [r.number, r.config_id]));
  }

  /**
   * The numbers of configurations a service answered to their owner, giving the next ones of
   * the owner's sequence to those without, in the order given (oldest first reads best).
   */
  async configNumbers(ownerId: string, configIds: string[]): Promise<Map<string, number>> {
    const numbers = await this.existingConfigNumbers(ownerId, configIds);
    for (const configId of new Set(configIds)) {
      if (numbers.has(configId)) continue;
      const number = await this.giveConfigNumber(ownerId, configId);
      if (number !== null) numbers.set(configId, number);
    }
    return numbers;
  }

  private async existingConfigNumbers(ownerId: string, configIds: string[]): Promise<Map<string, number>> {
    if (configIds.length === 0) return new Map();
    const rows: Array<{ config_id: string; number: number }> = await this.dataSource.query(
      `SELECT config_id, number FROM compat_config_numbers WHERE owner_id = $1 AND config_id = ANY($2::uuid[])`,
      [ownerId, configIds],
    );
    return new Map(rows.map((r) => [r.config_id, r.number]));
  }

  /**
   * Moves the owner's counter and numbers the configuration in one statement; the counter's
   * row lock orders concurrent callers. Null when the configuration was deleted meanwhile.
   */
  private async giveConfigNumber(ownerId: string, configId: string): Promise<number | null> {
    try {
      const rows: Array<{ number: number }> = await this.dataSource.query(
        `WITH counter AS (
           INSERT INTO compat_config_counters AS c (owner_id, last_number) VALUES ($1, 1)
           ON CONFLICT (owner_id) DO UPDATE SET last_number = c.last_number + 1
           RETURNING last_number
         ), given AS (
           INSERT INTO compat_config_numbers (config_id, owner_id, number)
           SELECT $2::uuid, $1::uuid, last_number FROM counter
           ON CONFLICT (config_id) DO NOTHING RETURNING number
         )
         SELECT number FROM given
         UNION ALL SELECT number FROM compat_config_numbers WHERE config_id = $2 AND owner_id = $1`,
        [ownerId, configId],
      );
      return rows[0]?.number ?? (await this.existingConfigNumbers(ownerId, [configId])).get(configId) ?? null;
    } catch (error) {
      const code = (error as QueryFailedError & { driverError?: { code?: string } }).driverError?.code;
      if (error instanceof QueryFailedError && code === FOREIGN_KEY_VIOLATION) return null;
      throw error;
    }
  }
}
