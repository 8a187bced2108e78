import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminAuth, CurrentUser, UserAuth } from '#src/common/auth/auth.decorators.js';
import type { UserPrincipal } from '#src/common/auth/principal.js';
import { Public } from '#src/common/public.decorator.js';
import { RateLimit } from '#src/common/rate-limit/rate-limit.policies.js';
import { UuidParam } from '#src/common/validators.js';
import {
  AdminUpdateUserDto,
  ListUsersQueryDto,
  RegisterDto,
  UpdateMeDto,
  UserPageDto,
  UserResponseDto,
} from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('auth')
@Controller('auth')
export class RegistrationController {
  constructor(private readonly users: UsersService) {}

  @Post('register')
  @Public()
  @RateLimit('register')
  @ApiOperation({
    summary: 'Sign up (public); the password must meet the policy',
    description:
      'A taken username or e-mail address answers 409, so this route tells whether one is registered: ' +
      'the limit of 3 sign-ups per hour per client address bounds that probing. (A uniform 202 would not ' +
      'hide it without an e-mail confirmation step: signing in with the name would still tell.)',
  })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiConflictResponse({ description: 'USERNAME_TAKEN or EMAIL_TAKEN (bounded by the 3/h per-address limit)' })
  register(@Body() dto: RegisterDto): Promise<UserResponseDto> {
    return this.users.register(dto);
  }
}

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @UserAuth({ allowPendingPasswordChange: true })
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserResponseDto })
  me(@CurrentUser() me: UserPrincipal): Promise<UserResponseDto> {
    return this.users.getById(me.userId);
  }

  @Patch('me')
  @UserAuth()
  @ApiOperation({ summary: 'Change own profile fields (department, job title)' })
  @ApiOkResponse({ type: UserResponseDto })
  updateMe(@CurrentUser() me: UserPrincipal, @Body() dto: UpdateMeDto): Promise<UserResponseDto> {
    return this.users.updateMe(me, dto);
  }

  @Get()
  @AdminAuth()
  @ApiOperation({ summary: 'List users (admin): filter by role, active, locked; search username/e-mail' })
  @ApiOkResponse({ type: UserPageDto })
  list(@Query() query: ListUsersQueryDto): Promise<UserPageDto> {
    return this.users.list(query);
  }

  @Get(':id')
  @AdminAuth()
  @ApiOperation({ summary: 'One user (admin)' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiNotFoundResponse({ description: 'USER_NOT_FOUND' })
  get(@Param('id', UuidParam) id: string): Promise<UserResponseDto> {
    return this.users.getById(id);
  }

  @Patch(':id')
  @AdminAuth()
  @ApiOperation({ summary: 'Change role, active flag, access level, session timeout, must-change-password (admin)' })
  @ApiOkResponse({ type: UserResponseDto })
  update(
    @Param('id', UuidParam) id: string,
    @Body() dto: AdminUpdateUserDto,
    @CurrentUser() admin: UserPrincipal,
  ): Promise<UserResponseDto> {
    return this.users.adminUpdate(id, dto, admin);
  }

  @Delete(':id')
  @HttpCode(204)
  @AdminAuth()
  @ApiOperation({ summary: 'Delete a user and everything they own (admin)' })
  @ApiNoContentResponse()
  delete(@Param('id', UuidParam) id: string, @CurrentUser() admin: UserPrincipal): Promise<void> {
    return this.users.delete(id, admin);
  }

  @Post(':id/unlock')
  @HttpCode(200)
  @AdminAuth()
  @ApiOperation({ summary: 'Clear failed logins and the lock (admin)' })
  @ApiOkResponse({ type: UserResponseDto })
  unlock(@Param('id', UuidParam) id: string, @CurrentUser() admin: UserPrincipal): Promise<UserResponseDto> {
    return this.users.unlock(id, admin);
  }
}
