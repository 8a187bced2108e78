import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { PageQueryDto } from '#src/common/pagination.dto.js';
import { IsStrongPassword, IsUsername } from '#src/common/validators.js';
import { USER_ROLES, type UserRole } from '../user.entity.js';
import { BooleanQuery } from '#src/common/query-transforms.js';

export class RegisterDto {
  @ApiProperty({ example: 'ada.lovelace', minLength: 3, maxLength: 50 })
  @IsUsername()
  username: string;

  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'Correct-Horse-9', description: '12–128 chars with upper, lower, digit and special' })
  @IsStrongPassword()
  password: string;

  @ApiPropertyOptional({ example: 'Engineering' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  department?: string;

  @ApiPropertyOptional({ example: 'Analyst' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  job_title?: string;
}

/** What people may change about themselves: nothing that grants access. */
export class UpdateMeDto {
  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  department?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  job_title?: string | null;
}

export class AdminUpdateUserDto extends UpdateMeDto {
  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOptional()
  @IsIn(USER_ROLES)
  role?: UserRole;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ minimum: 0, maximum: 10 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  access_level?: number;

  @ApiPropertyOptional({ nullable: true, type: Number, minimum: 5, maximum: 43_200 })
  @IsOptional()
  @IsInt()
  @Min(5)
  @Max(43_200)
  session_timeout_minutes?: number | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  must_change_password?: boolean;
}

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOptional()
  @IsIn(USER_ROLES)
  role?: UserRole;

  @ApiPropertyOptional()
  @IsOptional()
  @BooleanQuery()
  @IsBoolean()
  is_active?: boolean;

  @ApiPropertyOptional({ description: 'Only accounts locked right now (true) or not locked (false)' })
  @IsOptional()
  @BooleanQuery()
  @IsBoolean()
  locked?: boolean;

  @ApiPropertyOptional({ description: 'Part of the username or e-mail address' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;
}

export class UserResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() username: string;
  @ApiProperty() email: string;
  @ApiProperty({ enum: USER_ROLES }) role: UserRole;
  @ApiProperty() is_active: boolean;
  @ApiProperty() mfa_enabled: boolean;
  @ApiProperty({ nullable: true, type: String }) department: string | null;
  @ApiProperty({ nullable: true, type: String }) job_title: string | null;
  @ApiProperty() access_level: number;
  @ApiProperty({ nullable: true, type: Number }) session_timeout_minutes: number | null;
  @ApiProperty() must_change_password: boolean;
  @ApiProperty() failed_login_attempts: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) locked_until: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) last_login_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class UserPageDto {
  @ApiProperty({ type: [UserResponseDto] }) items: UserResponseDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
