import { Body, Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { ApiKeyAuth, CurrentClient } from '#src/common/auth/auth.decorators.js';
import type { ClientPrincipal } from '#src/common/auth/principal.js';
import { Clock } from '#src/common/clock.js';
import { ApiLockedResponse } from '#src/common/locked-response.decorator.js';
import { Public } from '#src/common/public.decorator.js';
import { APP_CONFIG } from '#src/config/config.module.js';
import type { AppConfig } from '#src/config/config.types.js';
import { DeviceIdParam } from '#src/devices/dto/device.dto.js';
import { DevicesService } from '#src/devices/devices.service.js';
import { HealthService } from '#src/health/health.service.js';
import { COMPAT_PATHS } from '../compat-paths.js';
import {
  DeviceOtpDeactivatedDto,
  DeviceOtpErrorDto,
  DeviceOtpHealthDto,
  DeviceOtpRegisterDto,
  DeviceOtpRegisteredDto,
  DeviceOtpVerifiedDto,
  DeviceOtpVerifyDto,
} from './dto/device-otp.dto.js';

const REFUSED = 'Refused: `{success: false, message, data: null, detail}`';

/**
 * The device OTP service's routes under its base URL (`/compat/device-otp`), answered in its
 * envelope `{success, message, data}`; registration, verification and deactivation are the
 * devices service's own, with its tenancy, replay guard, locks and audit.
 */
@ApiTags('compat 002: device OTP')
@Controller(COMPAT_PATHS.deviceOtp)
export class DeviceOtpCompatController {
  constructor(
    private readonly devices: DevicesService,
    private readonly health: HealthService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('api/v1/devices/register')
  @HttpCode(200)
  @ApiKeyAuth('devices:write')
  @ApiOperation({ summary: 'Register a device; its derived key is in this answer only (as POST devices/register)' })
  @ApiOkResponse({ type: DeviceOtpRegisteredDto })
  @ApiBadRequestResponse({ type: DeviceOtpErrorDto, description: `${REFUSED}; "Device already registered"` })
  async register(
    @Body() dto: DeviceOtpRegisterDto,
    @CurrentClient() client: ClientPrincipal,
  ): Promise<DeviceOtpRegisteredDto> {
    const device = await this.devices.register(client, dto);
    return {
      success: true,
      message: 'Device registered successfully',
      data: { device_id: device.device_id, derived_key: device.derived_key },
    };
  }

  @Post('api/v1/otp/verify')
  @HttpCode(200)
  @ApiKeyAuth('devices:verify')
  @ApiOperation({
    summary: "Check a device's TOTP (as POST devices/verify); `otp` may be a JSON integer",
    description: 'A wrong or replayed code answers 200 with `data.valid` false; a locked device answers 423.',
  })
  @ApiOkResponse({ type: DeviceOtpVerifiedDto })
  @ApiBadRequestResponse({ type: DeviceOtpErrorDto, description: `${REFUSED}; "Device not found", or a bad otp` })
  @ApiLockedResponse('DEVICE_LOCKED', 'too many failed verifications')
  async verify(
    @Body() dto: DeviceOtpVerifyDto,
    @CurrentClient() client: ClientPrincipal,
  ): Promise<DeviceOtpVerifiedDto> {
    const result = await this.devices.verify(client, { device_id: dto.device_id, otp: dto.otp });
    return { success: true, message: 'OTP verification completed', data: { valid: result.valid } };
  }

  @Post('api/v1/devices/:device_id/deactivate')
  @HttpCode(200)
  @ApiKeyAuth('devices:write')
  @ApiOperation({ summary: 'Deactivate a device: its codes are refused (as POST devices/{device_id}/deactivate)' })
  @ApiOkResponse({ type: DeviceOtpDeactivatedDto })
  @ApiBadRequestResponse({ type: DeviceOtpErrorDto, description: `${REFUSED}; "Device not found"` })
  async deactivate(
    @Param('device_id', DeviceIdParam) deviceId: string,
    @CurrentClient() client: ClientPrincipal,
  ): Promise<DeviceOtpDeactivatedDto> {
    await this.devices.deactivate(client.clientId, deviceId, client);
    return { success: true, message: 'Device deactivated successfully', data: null };
  }

  @Get('health')
  @Public()
  // As GET /health: load balancers poll it, and the database ping behind it is cached.
  @SkipThrottle()
  @ApiOperation({ summary: 'Liveness and database reachability, as the system answered them (GET /health)' })
  @ApiOkResponse({ type: DeviceOtpHealthDto })
  @ApiServiceUnavailableResponse({ type: DeviceOtpHealthDto, description: 'The database is unreachable' })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<DeviceOtpHealthDto> {
    const databaseUp = await this.health.databaseUp();
    // 503 when down, unlike the system's constant 200: a load balancer must see the outage.
    void reply.status(databaseUp ? 200 : 503).header('cache-control', 'no-store');
    const state = databaseUp ? 'healthy' : 'unhealthy';
    return { status: state, timestamp: this.clock.now().toISOString(), version: this.config.version, database: state };
  }
}
