import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '#src/audit/audit.service.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { ProblemException } from '#src/common/problem.js';
import { SecretCipher } from '#src/crypto/secret-cipher.js';
import { decodeBase32, encodeBase32 } from '#src/otp/base32.js';
import { readQrPng, UnreadableQrError } from '#src/otp/qr.js';
import {
  ExportOtpConfigsDto,
  ExportResultDto,
  ImportItemResultDto,
  ImportOtpConfigsDto,
  ImportResultDto,
  MAX_IMPORT_ITEMS,
  type ImportSource,
} from './dto/otp-config.dto.js';
import { OtpConfig, type OtpConfigWithSecret } from './otp-config.entity.js';
import { newConfigFrom, OtpConfigsService } from './otp-configs.service.js';
import { readAegis, readTwoFauth } from './transfer/authenticator-json.js';
import { decryptBackup, encryptBackup, readBackupAccount, type BackupAccount } from './transfer/encrypted-backup.js';
import { readGoogleMigration } from './transfer/google-migration.js';
import { meaningfulLines, readOtpauthUri } from './transfer/otpauth-list.js';
import { ImportFormatError, type ItemOutcome } from './transfer/transfer-account.js';

/** One item to import, where it came from, and what it came to. */
interface ImportItem {
  source: ImportSource;
  index: number;
  outcome: ItemOutcome;
}

const invalidRequest = (field: string, message: string): ProblemException =>
  new ProblemException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, {
    errors: [{ field, messages: [message] }],
  });

/** The problem code each kind of unreadable export answers with. */
const UNREADABLE_EXPORT_CODES: Record<ImportFormatError['kind'], string> = {
  malformed: 'IMPORT_FORMAT_INVALID',
  'encrypted-vault': 'ENCRYPTED_VAULT_UNSUPPORTED',
  'wrong-passphrase': 'BACKUP_DECRYPTION_FAILED',
};

const tooLarge = (): ProblemException =>
  new ProblemException(
    HttpStatus.BAD_REQUEST,
    'IMPORT_TOO_LARGE',
    `An import holds at most ${MAX_IMPORT_ITEMS} accounts; split the export.`,
  );

/**
 * Moving a person's accounts in and out: imports from the exports people migrate with
 * (otpauth URIs, Google Authenticator, Aegis, 2FAuth, this service's encrypted backup) and
 * exports as otpauth URIs or an encrypted backup. Owner-only; every export is audited.
 */
@Injectable()
export class OtpConfigTransferService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly configs: OtpConfigsService,
    private readonly cipher: SecretCipher,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * Imports accounts. Each item is imported whole or not at all; invalid items and duplicates
   * (a name you already use, or repeated in the import) are reported and skipped; the valid
   * ones are written in one transaction. A dry run answers the same results and writes nothing.
   */
  async import(me: UserPrincipal, dto: ImportOtpConfigsDto): Promise<ImportResultDto> {
    const items = [
      ...(dto.accounts ?? []).map((account, index) => ({
        source: 'account' as const,
        index,
        outcome: { account: newConfigFrom(account, decodeBase32(account.secret)) },
      })),
      ...(dto.uris ?? []).map((uri, index) => ({ source: 'uri' as const, index, outcome: readOtpauthUri(uri) })),
      ...(await this.itemsOfExport(dto)),
    ];
    if (items.length === 0) {
      throw new ProblemException(
        HttpStatus.BAD_REQUEST,
        'VALIDATION_FAILED',
        'Give accounts, uris or an export (format) to import.',
        {
          errors: [{ field: 'accounts', messages: ['accounts, uris or format must be given'] }],
        },
      );
    }
    if (items.length > MAX_IMPORT_ITEMS) throw tooLarge();
    const dryRun = dto.dry_run ?? false;
    return this.dataSource.transaction(async (manager) => {
      const taken = new Set(
        (await manager.find(OtpConfig, { where: { ownerId: me.userId }, select: { name: true } })).map((c) =>
          c.name.toLowerCase(),
        ),
      );
      const results: ImportItemResultDto[] = [];
      for (const { source, index, outcome } of items) {
        const base = { index, source };
        if ('error' in outcome) {
          results.push({ ...base, status: 'invalid', message: outcome.error });
          continue;
        }
        const { name } = outcome.account;
        if (taken.has(name.toLowerCase())) {
          results.push({ ...base, status: 'duplicate', name, message: 'That name is already in use.' });
          continue;
        }
        taken.add(name.toLowerCase());
        if (dryRun) {
          results.push({ ...base, status: 'imported', name });
          continue;
        }
        const saved = await this.configs.insert(manager, me.userId, outcome.account);
        results.push({ ...base, status: 'imported', name: saved.name, config_id: saved.id });
      }
      const count = (status: ImportItemResultDto['status']): number =>
        results.filter((r) => r.status === status).length;
      const summary = { imported: count('imported'), duplicates: count('duplicate'), invalid: count('invalid') };
      if (!dryRun) {
        await this.audit.record(
          {
            actorType: 'user',
            actorId: me.userId,
            action: 'otp_config.import',
            resource: 'otp_config',
            status: 'success',
            details: { ...summary, format: dto.format ?? 'accounts' },
          },
          manager,
        );
      }
      return { dry_run: dryRun, ...summary, results };
    });
  }

  /** The accounts of the export named by `format`, read from `content`, `image` or `backup`. */
  private async itemsOfExport(dto: ImportOtpConfigsDto): Promise<ImportItem[]> {
    const { format } = dto;
    if (!format) {
      for (const field of ['content', 'image', 'backup', 'passphrase'] as const) {
        if (dto[field] !== undefined) throw invalidRequest(field, `${field} needs format`);
      }
      return [];
    }
    const takes = {
      otpauth: ['content', 'image'],
      google: ['content', 'image'],
      aegis: ['content'],
      '2fauth': ['content'],
      encrypted: ['backup', 'passphrase'],
    }[format];
    for (const field of ['content', 'image', 'backup', 'passphrase'] as const) {
      if (dto[field] !== undefined && !takes.includes(field)) {
        throw invalidRequest(field, `${field} does not apply to format ${format}`);
      }
    }
    try {
      const outcomes = await this.readExport(dto, format);
      return outcomes.map((outcome, index) => ({ source: format, index, outcome }));
    } catch (error) {
      if (error instanceof ImportFormatError) {
        throw new ProblemException(HttpStatus.BAD_REQUEST, UNREADABLE_EXPORT_CODES[error.kind], error.message);
      }
      if (error instanceof UnreadableQrError) {
        throw new ProblemException(HttpStatus.BAD_REQUEST, 'QR_UNREADABLE', error.message);
      }
      throw error;
    }
  }

  private async readExport(
    dto: ImportOtpConfigsDto,
    format: NonNullable<ImportOtpConfigsDto['format']>,
  ): Promise<ItemOutcome[]> {
    if (format === 'encrypted') {
      if (!dto.backup) throw invalidRequest('backup', 'backup is required for format encrypted');
      if (!dto.passphrase) throw invalidRequest('passphrase', 'passphrase is required for format encrypted');
      const accounts = await decryptBackup(dto.backup, dto.passphrase);
      if (accounts.length > MAX_IMPORT_ITEMS) throw tooLarge();
      return accounts.map(readBackupAccount);
    }
    if (format === 'aegis' || format === '2fauth') {
      if (dto.content === undefined) throw invalidRequest('content', `content is required for format ${format}`);
      return format === 'aegis' ? readAegis(dto.content) : readTwoFauth(dto.content);
    }
    if ((dto.content === undefined) === (dto.image === undefined)) {
      throw invalidRequest('content', `give content or image (one of them) for format ${format}`);
    }
    // A QR code holds one URI; a text may hold several, one per line.
    const lines = dto.image !== undefined ? [readQrPng(pngOf(dto.image))] : meaningfulLines(dto.content!);
    if (lines.length > MAX_IMPORT_ITEMS) throw tooLarge();
    return format === 'otpauth' ? lines.map(readOtpauthUri) : lines.flatMap(readGoogleMigration);
  }

  /** Your accounts, with their secrets, as otpauth URIs or a passphrase-encrypted backup. A secret reveal: audited. */
  async export(me: UserPrincipal, dto: ExportOtpConfigsDto): Promise<ExportResultDto> {
    if (dto.format !== 'encrypted' && dto.passphrase !== undefined) {
      throw invalidRequest('passphrase', 'passphrase applies to format encrypted only');
    }
    const configs = (await this.dataSource
      .getRepository(OtpConfig)
      .createQueryBuilder('c')
      .addSelect('c.secret')
      .where('c.owner_id = :owner', { owner: me.userId })
      .orderBy('c.created_at', 'ASC')
      .addOrderBy('c.id')
      .getMany()) as OtpConfigWithSecret[];
    const withSecrets = configs.map((config) => ({ config, secret: this.cipher.decrypt(config.secret) }));
    await this.audit.record({
      actorType: 'user',
      actorId: me.userId,
      action: 'otp_config.export',
      resource: 'otp_config',
      status: 'success',
      details: { format: dto.format, count: configs.length },
    });
    if (dto.format === 'otpauth') {
      return {
        format: 'otpauth',
        count: configs.length,
        uris: withSecrets.map(({ config, secret }) => this.configs.provisioningUri(config, secret)),
      };
    }
    const accounts = withSecrets.map(({ config, secret }) => toBackupAccount(config, secret));
    return {
      format: 'encrypted',
      count: configs.length,
      backup: await encryptBackup(accounts, dto.passphrase!, this.clock.now()),
    };
  }
}

/** The PNG bytes of a base64 image, with or without a `data:image/png;base64,` prefix. */
function pngOf(image: string): Buffer {
  const base64 = image.replace(/^data:image\/png;base64,/i, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new UnreadableQrError('The image is not base64.');
  return Buffer.from(base64, 'base64');
}

function toBackupAccount(config: OtpConfig, secret: Buffer): BackupAccount {
  return {
    name: config.name,
    otp_type: config.otpType,
    algorithm: config.algorithm,
    digits: config.digits,
    interval: config.period,
    counter: config.counter === null ? null : Number(config.counter),
    issuer: config.issuer,
    account_name: config.accountName,
    secret: encodeBase32(secret),
    is_active: config.isActive,
  };
}
