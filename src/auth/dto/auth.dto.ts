import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsOtpCode, IsPresentedPassword, IsStrongPassword } from '#src/common/validators.js';
import { USER_ROLES, type UserRole } from '#src/users/user.entity.js';

export class LoginDto {
  @ApiProperty({ example: 'ada.lovelace', description: 'Username or e-mail address' })
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  username: string;

  @ApiProperty({ example: 'Correct-Horse-9' })
  @IsPresentedPassword()
  password: string;

  @ApiPropertyOptional({ example: '123456', description: 'TOTP code, or a recovery code, when MFA is on' })
  @IsOptional()
  @IsString()
  @Matches(/^(\d{6,8}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$/, {
    message: 'mfa_code must be a 6–8 digit code or a recovery code',
  })
  mfa_code?: string;
}

export class StepUpDto {
  @ApiProperty({ example: 'Correct-Horse-9' })
  @IsPresentedPassword()
  password: string;

  @ApiPropertyOptional({ example: '123456', description: 'TOTP code, or a recovery code; required when MFA is on' })
  @IsOptional()
  @IsString()
  @Matches(/^(\d{6,8}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$/, {
    message: 'mfa_code must be a 6–8 digit code or a recovery code',
  })
  mfa_code?: string;
}

export class StepUpResponseDto {
  @ApiProperty({ format: 'date-time', description: 'Until when this session may reveal or replace secrets' })
  step_up_expires_at: string;
  @ApiProperty({ description: 'Seconds from now (STEP_UP_TTL)', example: 300 }) expires_in: number;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from login or the last refresh' })
  @IsString()
  @MinLength(10)
  @MaxLength(200)
  refresh_token: string;
}

export class LogoutDto {
  @ApiPropertyOptional({ description: 'Ends this login; without it, the login of the access token ends' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  refresh_token?: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsPresentedPassword()
  current_password: string;

  @ApiProperty({ description: '12–128 chars with upper, lower, digit and special' })
  @IsStrongPassword()
  new_password: string;
}

export class MfaCodeDto {
  @ApiProperty({ example: '123456' })
  @IsOtpCode()
  code: string;
}

export class MfaDisableDto {
  @ApiProperty()
  @IsPresentedPassword()
  password: string;

  @ApiProperty({ example: '123456', description: 'A current TOTP code or a recovery code' })
  @IsString()
  @Matches(/^(\d{6,8}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$/, {
    message: 'code must be a 6–8 digit code or a recovery code',
  })
  code: string;
}

export class LoginUserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
  @ApiProperty() must_change_password: boolean;
}

export class TokenResponseDto {
  @ApiProperty() access_token: string;
  @ApiProperty() refresh_token: string;
  @ApiProperty({ example: 'Bearer' }) token_type: 'Bearer';
  @ApiProperty({ description: 'Access token lifetime, seconds', example: 900 }) expires_in: number;
}

/** Login answer when the password (and any MFA code) was right: the tokens. */
export class LoginTokensResponseDto {
  @ApiProperty({ enum: [false], description: 'False: signed in, the tokens follow' })
  mfa_required: false;
  @ApiProperty() access_token: string;
  @ApiProperty() refresh_token: string;
  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' }) token_type: 'Bearer';
  @ApiProperty({ description: 'Access token lifetime, seconds', example: 900 }) expires_in: number;
  @ApiProperty({ type: LoginUserDto }) user: LoginUserDto;
}

/** Login answer when the password was right but MFA is on and no code came: no tokens. */
export class MfaRequiredResponseDto {
  @ApiProperty({ enum: [true], description: 'True: send the password again with `mfa_code`' })
  mfa_required: true;
}

/** The login answer: tokens, or `{"mfa_required": true}`; `mfa_required` tells which. */
export type LoginResponseDto = LoginTokensResponseDto | MfaRequiredResponseDto;

export class SessionResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) last_used_at: string;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
  @ApiProperty({ description: 'The session of the token making this request' }) current: boolean;
}

export class MfaEnrolmentDto {
  @ApiProperty({ description: 'Base32 secret for manual entry; shown only now' }) mfa_secret: string;
  @ApiProperty({ description: 'otpauth:// URI' }) mfa_uri: string;
  @ApiProperty({ description: 'QR code of the URI as a PNG data URL' }) qr_code: string;
}

export class MfaEnabledDto {
  @ApiProperty() mfa_enabled: boolean;
  @ApiProperty({ type: [String], description: 'Single-use recovery codes; shown only now' }) recovery_codes: string[];
}

export class MfaStatusDto {
  @ApiProperty() mfa_enabled: boolean;
}
