import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyAuth, CurrentClient } from '#src/common/auth/auth.decorators.js';
import type { ClientPrincipal } from '#src/common/auth/principal.js';
import { ApiLockedResponse } from '#src/common/locked-response.decorator.js';
import { DevicesService } from './devices.service.js';
import {
  DeviceIdParam,
  DevicePageDto,
  DeviceResponseDto,
  DeviceVerifyResultDto,
  ListDevicesQueryDto,
  ProvisionedDeviceDto,
  RegisterDeviceDto,
  VerifyDeviceDto,
} from './dto/device.dto.js';

/** An enterprise client's devices; every route sees the calling key's client only. */
@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Post('register')
  @ApiKeyAuth('devices:write')
  @ApiOperation({ summary: 'Register a device; its derived key, URI and QR are in this answer only' })
  @ApiCreatedResponse({ type: ProvisionedDeviceDto })
  @ApiConflictResponse({ description: 'DEVICE_EXISTS: the client already has this device_id' })
  register(@Body() dto: RegisterDeviceDto, @CurrentClient() client: ClientPrincipal): Promise<ProvisionedDeviceDto> {
    return this.devices.register(client, dto);
  }

  @Post('verify')
  @HttpCode(200)
  @ApiKeyAuth('devices:verify')
  @ApiOperation({
    summary: "Check a device's TOTP (by device_id, or across the user's active devices by user_id)",
    description: 'A code is accepted once. `valid: false` does not say why; a locked device answers 423.',
  })
  @ApiOkResponse({ type: DeviceVerifyResultDto })
  @ApiNotFoundResponse({ description: 'DEVICE_NOT_FOUND' })
  @ApiConflictResponse({ description: "DEVICE_REKEY_REQUIRED: the device's master secret version is gone" })
  @ApiLockedResponse('DEVICE_LOCKED', 'too many failed verifications')
  verify(@Body() dto: VerifyDeviceDto, @CurrentClient() client: ClientPrincipal): Promise<DeviceVerifyResultDto> {
    return this.devices.verify(client, dto);
  }

  @Get()
  @ApiKeyAuth('devices:read')
  @ApiOperation({ summary: "List the client's devices (filter by user_id, active, verified)" })
  @ApiOkResponse({ type: DevicePageDto })
  list(@Query() query: ListDevicesQueryDto, @CurrentClient() client: ClientPrincipal): Promise<DevicePageDto> {
    return this.devices.list(client.clientId, query);
  }

  @Get(':device_id')
  @ApiKeyAuth('devices:read')
  @ApiOperation({ summary: 'One device: usage count, last use, verified, lock, deactivation' })
  @ApiOkResponse({ type: DeviceResponseDto })
  @ApiNotFoundResponse({ description: 'DEVICE_NOT_FOUND' })
  get(
    @Param('device_id', DeviceIdParam) deviceId: string,
    @CurrentClient() client: ClientPrincipal,
  ): Promise<DeviceResponseDto> {
    return this.devices.get(client.clientId, deviceId);
  }

  @Post(':device_id/deactivate')
  @HttpCode(200)
  @ApiKeyAuth('devices:write')
  @ApiOperation({ summary: 'Deactivate a device: its codes are refused until it is reactivated' })
  @ApiOkResponse({ type: DeviceResponseDto })
  @ApiNotFoundResponse({ description: 'DEVICE_NOT_FOUND' })
  deactivate(
    @Param('device_id', DeviceIdParam) deviceId: string,
    @CurrentClient() client: ClientPrincipal,
  ): Promise<DeviceResponseDto> {
    return this.devices.deactivate(client.clientId, deviceId, client);
  }

  @Post(':device_id/reactivate')
  @HttpCode(200)
  @ApiKeyAuth('devices:write')
  @ApiOperation({ summary: 'Reactivate a device with the key it had' })
  @ApiOkResponse({ type: DeviceResponseDto })
  @ApiNotFoundResponse({ description: 'DEVICE_NOT_FOUND' })
  reactivate(
    @Param('device_id', DeviceIdParam) deviceId: string,
    @CurrentClient() client: ClientPrincipal,
  ): Promise<DeviceResponseDto> {
    return this.devices.reactivate(client.clientId, deviceId, client);
  }

  @Post(':device_id/rekey')
  @HttpCode(200)
  @ApiKeyAuth('devices:write')
  @ApiOperation({ summary: 'Issue a new key under the active master secret version; the old key stops working' })
  @ApiOkResponse({ type: ProvisionedDeviceDto })
  @ApiNotFoundResponse({ description: 'DEVICE_NOT_FOUND' })
  @ApiConflictResponse({ description: 'DEVICE_INACTIVE: reactivate the device first' })
  rekey(
    @Param('device_id', DeviceIdParam) deviceId: string,
    @CurrentClient() client: ClientPrincipal,
  ): Promise<ProvisionedDeviceDto> {
    return this.devices.rekey(client.clientId, deviceId, client);
  }
}
