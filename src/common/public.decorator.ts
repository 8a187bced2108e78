import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const IS_PUBLIC = 'isPublic';
/** Marks public operations in the OpenAPI document, where it becomes `security: []`. */
export const PUBLIC_EXTENSION = 'x-public';

/** Opts a route out of authentication, which is otherwise required everywhere. */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(IS_PUBLIC, true), ApiExtension(PUBLIC_EXTENSION, true));
