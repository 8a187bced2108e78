import { Global, Injectable, Module } from '@nestjs/common';
import type { ProblemDetails } from '#src/common/problem.js';

/** A replaced system's answer to a refused request: its status (the problem's unless given) and body. */
export interface CompatErrorAnswer {
  readonly status?: number;
  readonly body: unknown;
}

/** Turns the service's problem (already audited, counted and logged) into a replaced system's error body. */
export type CompatErrorShape = (problem: ProblemDetails) => CompatErrorAnswer;

/**
 * The error shapes of the compatibility routes, by path prefix. The exception filter still
 * decides the status, the audit and the headers (Retry-After…); only the body is reshaped,
 * so no rule is implemented twice.
 */
@Injectable()
export class CompatErrorShapes {
  private readonly shapes: Array<{ prefix: string; shape: CompatErrorShape }> = [];

  register(prefix: string, shape: CompatErrorShape): void {
    this.shapes.push({ prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, shape });
  }

  /** The shape of the system whose prefix starts the path, if any. */
  for(url: string): CompatErrorShape | undefined {
    if (this.shapes.length === 0) return undefined;
    return this.shapes.find(({ prefix }) => url.startsWith(prefix))?.shape;
  }
}

/** Global: the app-wide exception filter reads it, each compat module registers its shape in it. */
@Global()
@Module({ providers: [CompatErrorShapes], exports: [CompatErrorShapes] })
export class CompatErrorShapesModule {}
