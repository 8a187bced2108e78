import { Controller, Get, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { AdminAuth, CurrentUser } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { AuditChainService } from './audit-chain.service.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditService } from './audit.service.js';
import {
  AuditExportQueryDto,
  AuditLogPageDto,
  AuditLogQueryDto,
  AuditTimelineDto,
  AuditTimelineQueryDto,
  AuditVerifyDto,
} from './dto/audit.dto.js';

const CONTENT_TYPES = { ndjson: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

@ApiTags('audit')
@AdminAuth()
@Controller('audit')
export class AuditController {
  constructor(
    private readonly query: AuditQueryService,
    private readonly chain: AuditChainService,
    private readonly audit: AuditService,
  ) {}

  @Get('logs')
  @ApiOperation({
    summary: 'Audit records matching every given filter, newest first (offset pages of at most 100, with the total)',
  })
  @ApiOkResponse({ type: AuditLogPageDto })
  logs(@Query() query: AuditLogQueryDto): Promise<AuditLogPageDto> {
    return this.query.list(query);
  }

  @Get('timeline')
  @ApiOperation({ summary: 'Records per hour, by action and status, over the last `hours` hours' })
  @ApiOkResponse({ type: AuditTimelineDto })
  timeline(@Query() query: AuditTimelineQueryDto): Promise<AuditTimelineDto> {
    return this.query.timeline(query.hours);
  }

  @Get('verify')
  @ApiOperation({ summary: 'Check the hash chain over every sealed record; names the first record that breaks it' })
  @ApiOkResponse({ type: AuditVerifyDto })
  async verify(): Promise<AuditVerifyDto> {
    const result = await this.chain.verify();
    return {
      ok: result.ok,
      checked: result.checked,
      first_broken_id: result.firstBrokenId,
      unsealed: result.unsealed,
      anchor_seq: result.anchorSeq,
    };
  }

  @Get('export')
  @ApiOperation({
    summary: 'Every record matching the filters, newest first, streamed as NDJSON (default) or CSV',
  })
  @ApiProduces(CONTENT_TYPES.ndjson, CONTENT_TYPES.csv)
  @ApiOkResponse({ description: 'One record per line (NDJSON), or a CSV file with a header row', type: String })
  async export(@Query() query: AuditExportQueryDto, @CurrentUser() admin: UserPrincipal): Promise<StreamableFile> {
    const { format, ...filters } = query;
    await this.audit.record({
      actorType: 'user',
      actorId: admin.userId,
      action: 'audit.export',
      resource: 'audit_log',
      status: 'success',
      details: { format, filters },
    });
    return new StreamableFile(Readable.from(this.query.export(filters, format), { objectMode: false }), {
      type: CONTENT_TYPES[format],
      disposition: `attachment; filename="audit-logs.${format}"`,
    });
  }
}
