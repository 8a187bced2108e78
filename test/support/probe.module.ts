import { EventEmitter } from 'node:events';
import { Body, Controller, Get, Module, Post, Query, Req } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { PageQueryDto } from '../../src/common/pagination.dto.js';
import { Public } from '../../src/common/public.decorator.js';
import { currentRequestContext } from '../../src/common/request-context.js';

class InnerDto {
  @IsString()
  label: string;
}

class ProbeDto {
  @IsString()
  @Length(1, 50)
  name: string;

  @IsInt()
  @Min(6)
  @Max(8)
  digits: number;

  @IsOptional()
  @IsString()
  password?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => InnerDto)
  inner?: InnerDto;
}

/** Emits `started` when a request reaches the `slow` handler, so a test knows it is in flight. */
export const slowRequests = new EventEmitter();

/** Routes that exist only in tests, to exercise the service's common HTTP behaviour. */
@Public()
@Controller('probe')
class ProbeController {
  @Post()
  echo(@Body() body: ProbeDto): ProbeDto {
    return body;
  }

  @Get('page')
  page(@Query() query: PageQueryDto): PageQueryDto {
    return query;
  }

  @Get('context')
  context(@Req() request: FastifyRequest): { ip: string; context: unknown } {
    return { ip: request.ip, context: currentRequestContext() };
  }

  @Get('boom')
  boom(): never {
    throw new Error('internal detail that must not leak');
  }

  @Get('slow')
  async slow(@Query('ms') ms = '300'): Promise<{ done: true }> {
    slowRequests.emit('started');
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
    return { done: true };
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
