import { Body, Controller, HttpCode, HttpStatus, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiKeyAuth, CurrentClient } from '#src/common/auth/auth.decorators.js';
import type { ClientPrincipal } from '#src/common/auth/principal.js';
import { ApiLockedResponse } from '#src/common/locked-response.decorator.js';
import { DevicesService } from '#src/devices/devices.service.js';
import { COMPAT_PATHS } from '../compat-paths.js';
import {
  TotpErrorDto,
  TotpRegisterDto,
  TotpRegisteredDto,
  TotpRejectedDto,
  TotpVerifiedDto,
  TotpVerifyDto,
} from './dto/totp-auth.dto.js';

/**
 * The TOTP registration service's routes under its base URL (`/compat/totp-auth`). A username
 * is a device of the calling client whose device_id and user_id are both the username: the
 * system had one secret per username, and device ids are what the devices service keeps
 * unique per client, so one username is one device, reachable through `/api/v1/devices` too.
 */
@ApiTags('compat 003: TOTP registration')
@Controller(`${COMPAT_PATHS.totpAuth}/totp`)
export class TotpAuthCompatController {
  constructor(private readonly devices: DevicesService) {}

  @Post('register')
  @ApiKeyAuth('devices:write')
  @ApiOperation({
    summary: 'Register a username; the provisioning URI and QR code (the secret) are in this answer only',
  })
  @ApiCreatedResponse({ type: TotpRegisteredDto })
  @ApiBadRequestResponse({ type: TotpErrorDto, description: '"User already registered", or a malformed username' })
  async register(@Body() dto: TotpRegisterDto, @CurrentClient() client: ClientPrincipal): Promise<TotpRegisteredDto> {
    const device = await this.devices.register(client, { device_id: dto.username, user_id: dto.username });
    return {
      username: device.user_id,
      created_at: device.created_at,
      // A device is created unverified; its first accepted code sets it (GET /api/v1/devices/{username}).
      verified_once: false,
      provisioning_uri: device.provisioning_uri,
      qr_code_base64: device.qr_code,
    };
  }

  @Post('verify')
  @HttpCode(200)
  // Above the auth decorator, whose 401 it replaces: Swagger keeps the last one applied.
  @ApiUnauthorizedResponse({
    type: TotpRejectedDto,
    description: '"Invalid OTP" (wrong, replayed or deactivated); `{detail}` alone for a missing or unknown API key',
  })
  @ApiKeyAuth('devices:verify')
  @ApiOperation({
    summary: "Check a username's TOTP (as POST devices/verify): a code is accepted once",
    description: 'A wrong, replayed or deactivated code answers 401 "Invalid OTP", as the system did.',
  })
  @ApiOkResponse({ type: TotpVerifiedDto })
  @ApiNotFoundResponse({ type: TotpErrorDto, description: '"User not found" (also for another client\'s username)' })
  @ApiLockedResponse('DEVICE_LOCKED', 'too many failed verifications')
  async verify(
    @Body() dto: TotpVerifyDto,
    @CurrentClient() client: ClientPrincipal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TotpVerifiedDto | TotpRejectedDto> {
    const result = await this.devices.verify(client, { device_id: dto.username, otp: dto.otp });
    if (result.valid) return { message: 'OTP is valid', username: dto.username, status: 'success' };
    // Answered, not thrown: the devices service has audited it and counted it on the device's
    // lock; it is no refusal of the caller's API key, so it must not count towards the address's
    // limit of refused requests. 401 as the system answered: its clients read the status.
    void reply.status(HttpStatus.UNAUTHORIZED);
    return { detail: 'Invalid OTP', message: 'Invalid OTP', username: dto.username, status: 'failed' };
  }
}
