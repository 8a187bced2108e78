import { ApiProperty } from '@nestjs/swagger';

export class HealthResponseDto {
  @ApiProperty({ enum: ['ok', 'error'], example: 'ok' })
  status: 'ok' | 'error';

  @ApiProperty({ enum: ['up', 'down'], example: 'up' })
  database: 'up' | 'down';

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
