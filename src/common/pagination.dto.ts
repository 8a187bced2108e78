import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { INT4_MAX } from './validators.js';

export const MAX_PAGE_SIZE = 100;

/** `?limit=&offset=` for every list; the page size is capped so no request reads a whole table. */
export class PageQueryDto {
  @ApiProperty({ required: false, minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = 20;

  @ApiProperty({ required: false, minimum: 0, maximum: INT4_MAX, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  offset: number = 0;
}

/** The shape of every list answer. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
