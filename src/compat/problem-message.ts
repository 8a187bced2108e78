import type { ProblemDetails } from '#src/common/problem.js';

/** A problem as one sentence for a replaced system's `message`/`detail`: the fields at fault, or its detail. */
export function problemMessage(problem: ProblemDetails): string {
  if (!problem.errors?.length) return problem.detail;
  return problem.errors.flatMap((error) => error.messages).join('; ');
}
