import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class HealthResponseDto {
  @ApiProperty({
    enum: ['ok', 'degraded', 'error'],
    example: 'ok',
    description: '"degraded": serving, but Redis is down (rate limits per instance); "error": the database is down',
  })
  status: 'ok' | 'degraded' | 'error';

  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  database: 'up' | 'down';

  @ApiPropertyOptional({
    enum: ['up', 'down'],
    example: 'up',
    description: 'The Redis store of shared rate limits; absent when REDIS_URL is unset',
  })
  redis?: 'up' | 'down';

  @ApiProperty({ example: '0.1.0' })
  version: string;

  @ApiProperty({ description: 'Seconds since the process started', example: 42 })
  uptime: number;
}

export class ServiceInfoDto {
  @ApiProperty({ example: 'otp-service' })
  name: string;

  @ApiProperty({ example: '0.1.0' })
  version: string;

  @ApiProperty({ nullable: true, type: String, example: '/docs' })
  docs: string | null;

  @ApiProperty({ nullable: true, type: String, example: '/docs/openapi.json' })
  openapi: string | null;
}
