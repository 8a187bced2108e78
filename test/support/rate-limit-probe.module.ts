import { Body, Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { IsString } from 'class-validator';
import { Public } from '#src/common/public.decorator.js';
import { RateLimit } from '#src/common/rate-limit/rate-limit.policies.js';

class LoginProbeDto {
  @IsString()
  username: string;
}

/** Routes that exist only in tests: one per kind of limit. */
@Public()
@Controller('rate-limit-probe')
class RateLimitProbeController {
  /** Only the default per-caller limit. */
  @Get('ping')
  ping(): { ok: true } {
    return { ok: true };
  }

  @Post('register')
  @HttpCode(200)
  @RateLimit('register')
  register(): { ok: true } {
    return { ok: true };
  }

  @Post('login')
  @HttpCode(200)
  @RateLimit('login')
  login(@Body() body: LoginProbeDto): { username: string } {
    return { username: body.username };
  }
}

@Module({ controllers: [RateLimitProbeController] })
export class RateLimitProbeModule {}
