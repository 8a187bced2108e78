import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';

/** Postgres: the row a foreign key names is gone (a configuration deleted meanwhile). */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The integer ids the replaced microservice's clients use, mapped to the service's uuids:
 * users by one global number, OTP configurations by a number per owner. A number is given
 * the first time an object is answered through these routes (concurrent first sights agree
 * on one) and never reused: a deleted configuration's number stays spent. Only objects a service has already answered
 * to their owner are numbered, so a number never names another person's object.
 */
@Injectable()
export class IntegerIdsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The user's number, given now if it has none. */
  async userNumber(userId: string): Promise<number> {
    const existing = (await this.existingUserNumbers([userId])).get(userId);
    if (existing !== undefined) return existing;
    // Only when missing: a conflicting insert would still draw (and waste) a number.
    await this.dataSource.query(
      `INSERT INTO compat_user_numbers (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING`,
      [userId],
    );
    const given = (await this.existingUserNumbers([userId])).get(userId);
    if (given === undefined) throw new Error('the user has no number after numbering it');
    return given;
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
    return (await this.configIdsOf(ownerId, [number])).get(number) ?? null;
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
    const wanted = [...new Set(configIds)];
    const known = await this.existingConfigNumbers(this.dataSource.manager, ownerId, wanted);
    if (known.size === wanted.length) return known;
    return this.dataSource.transaction(async (manager) => {
      // One numbering per owner at a time: a concurrent first sight waits here, then finds the
      // numbers given, so none is drawn twice or wasted.
      await manager.query(
        `INSERT INTO compat_config_counters (owner_id, last_number) VALUES ($1, 0) ON CONFLICT (owner_id) DO NOTHING`,
        [ownerId],
      );
      const [counter]: Array<{ last_number: number }> = await manager.query(
        `SELECT last_number FROM compat_config_counters WHERE owner_id = $1 FOR UPDATE`,
        [ownerId],
      );
      const numbers = await this.existingConfigNumbers(manager, ownerId, wanted);
      let last = counter.last_number;
      for (const configId of wanted) {
        if (numbers.has(configId) || !(await this.numberConfig(manager, ownerId, configId, last + 1))) continue;
        numbers.set(configId, ++last);
      }
      await manager.query(`UPDATE compat_config_counters SET last_number = $2 WHERE owner_id = $1`, [ownerId, last]);
      return numbers;
    });
  }

  private async existingConfigNumbers(
    manager: EntityManager,
    ownerId: string,
    configIds: string[],
  ): Promise<Map<string, number>> {
    if (configIds.length === 0) return new Map();
    const rows: Array<{ config_id: string; number: number }> = await manager.query(
      `SELECT config_id, number FROM compat_config_numbers WHERE owner_id = $1 AND config_id = ANY($2::uuid[])`,
      [ownerId, configIds],
    );
    return new Map(rows.map((r) => [r.config_id, r.number]));
  }

  /** Numbers one configuration; false when it was deleted meanwhile (and nothing is written). */
  private async numberConfig(
    manager: EntityManager,
    ownerId: string,
    configId: string,
    number: number,
  ): Promise<boolean> {
    await manager.query('SAVEPOINT number_config');
    try {
      await manager.query(`INSERT INTO compat_config_numbers (config_id, owner_id, number) VALUES ($1, $2, $3)`, [
        configId,
        ownerId,
        number,
      ]);
      await manager.query('RELEASE SAVEPOINT number_config');
      return true;
    } catch (error) {
      const code = (error as { driverError?: { code?: string } }).driverError?.code;
      if (!(error instanceof QueryFailedError) || code !== FOREIGN_KEY_VIOLATION) throw error;
      await manager.query('ROLLBACK TO SAVEPOINT number_config');
      return false;
    }
  }
}
