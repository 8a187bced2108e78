import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsDate,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { InTimestampRange } from '#src/common/validators.js';
import { API_KEY_SCOPES, type ApiKeyScope } from '../api-key.entity.js';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'acme-production', description: 'A label for people' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name: string;

  @ApiProperty({ example: 'acme', description: 'The client (tenant) the key acts for; its devices are its own' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,100}$/, { message: 'client_id may contain letters, digits, dot, dash and underscore' })
  client_id: string;

  @ApiProperty({
    enum: API_KEY_SCOPES,
    isArray: true,
    maxItems: API_KEY_SCOPES.length,
    example: ['devices:write', 'devices:verify'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_KEY_SCOPES.length)
  @ArrayUnique()
  @IsIn(API_KEY_SCOPES, { each: true })
  scopes: ApiKeyScope[];

  @ApiPropertyOptional({ format: 'date-time', description: 'After this the key is refused' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @InTimestampRange()
  expires_at?: Date;
}

export class ApiKeyResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() client_id: string;
  @ApiProperty({ description: 'The visible start of the key', example: 'otpk_Ab12Cd34' }) prefix: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes: ApiKeyScope[];
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expires_at: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) last_used_at: string | null;
  @ApiProperty() usage_count: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) revoked_at: string | null;
  @ApiProperty({ enum: ['active', 'revoked', 'expired'] }) status: 'active' | 'revoked' | 'expired';
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class CreatedApiKeyDto extends ApiKeyResponseDto {
  @ApiProperty({ description: 'The key itself. Shown only now: store it safely.' })
  key: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyResponseDto] }) items: ApiKeyResponseDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
