import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '#src/common/pagination.dto.js';
import { InTimestampRange } from '#src/common/validators.js';
import type { AuditRecordView, ExportFormat } from '../audit-export.js';

export const ACTOR_TYPES = ['user', 'api_key', 'system', 'anonymous'] as const;
export const AUDIT_STATUSES = ['success', 'failure'] as const;
export const EXPORT_FORMATS: readonly ExportFormat[] = ['ndjson', 'csv'];

/** Filters shared by the list and the export; every given filter must hold (AND). */
export class AuditFilterDto {
  @ApiPropertyOptional({ example: 'auth.login', description: 'Exact action name' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  @ApiPropertyOptional({ enum: ACTOR_TYPES })
  @IsOptional()
  @IsIn(ACTOR_TYPES)
  actor_type?: (typeof ACTOR_TYPES)[number];

  @ApiPropertyOptional({ description: 'User id or API key id that acted' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  actor_id?: string;

  @ApiPropertyOptional({ example: 'user', description: 'Kind of object acted on' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  resource?: string;

  @ApiPropertyOptional({ description: 'Id of the object acted on' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  resource_id?: string;

  @ApiPropertyOptional({ enum: AUDIT_STATUSES })
  @IsOptional()
  @IsIn(AUDIT_STATUSES)
  status?: (typeof AUDIT_STATUSES)[number];

  @ApiPropertyOptional({ example: '203.0.113.7', description: 'Exact client address' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ip?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Records at or after this instant' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @InTimestampRange()
  from?: Date;

  @ApiPropertyOptional({ format: 'date-time', description: 'Records before this instant' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @InTimestampRange()
  to?: Date;
}

export class AuditLogQueryDto extends IntersectionType(AuditFilterDto, PageQueryDto) {}

export class AuditExportQueryDto extends AuditFilterDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'ndjson' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format: ExportFormat = 'ndjson';
}

export class AuditTimelineQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 720,
    default: 24,
    description: 'Whole hours, ending with the current one',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(720)
  hours: number = 24;
}

export class AuditLogDto implements AuditRecordView {
  @ApiProperty({ example: '1042', description: 'Record id (a 64-bit integer, as a string)' }) id: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ enum: ACTOR_TYPES }) actor_type: string;
  @ApiProperty({ nullable: true, type: String }) actor_id: string | null;
  @ApiProperty({ example: 'auth.login' }) action: string;
  @ApiProperty({ nullable: true, type: String }) resource: string | null;
  @ApiProperty({ nullable: true, type: String }) resource_id: string | null;
  @ApiProperty({ enum: AUDIT_STATUSES }) status: string;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty({ nullable: true, type: String }) request_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String, description: 'Chain position; null until sealed' }) seq: string | null;
  @ApiProperty({ nullable: true, type: String }) prev_hash: string | null;
  @ApiProperty({ nullable: true, type: String }) hash: string | null;
}

export class AuditLogPageDto {
  @ApiProperty({ type: [AuditLogDto] }) items: AuditLogDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class AuditCountDto {
  @ApiProperty({ example: 'auth.login' }) action: string;
  @ApiProperty({ enum: AUDIT_STATUSES }) status: string;
  @ApiProperty() count: number;
}

export class AuditHourDto {
  @ApiProperty({ format: 'date-time', description: 'Start of the hour (UTC)' }) hour: string;
  @ApiProperty() total: number;
  @ApiProperty({ type: [AuditCountDto] }) counts: AuditCountDto[];
}

export class AuditTimelineDto {
  @ApiProperty() hours: number;
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ type: [AuditHourDto], description: 'One entry per hour, oldest first, empty hours included' })
  buckets: AuditHourDto[];
}

export class AuditVerifyDto {
  @ApiProperty() ok: boolean;
  @ApiProperty({ description: 'Sealed rows checked' }) checked: number;
  @ApiProperty({ nullable: true, type: String, description: 'Id of the first row that breaks the chain' })
  first_broken_id: string | null;
  @ApiProperty({ description: 'Rows written but not yet sealed into the chain' }) unsealed: number;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Last chain position removed by retention; the check starts after it',
  })
  anchor_seq: string | null;
}
