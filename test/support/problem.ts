import { expect } from 'vitest';

/** The headers every answer carries (helmet's, as set in src/http-app.ts). */
export const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** What is wrong with an error answer, or null: problem details with a request id, echoed in X-Request-Id. */
export function problemFault(answer: Answer): string | null {
  const type = String(answer.headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) return `content-type ${type || 'missing'}`;
  const body = answer.body as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null) return 'no JSON body';
  for (const member of ['type', 'title', 'detail', 'code', 'requestId'] as const) {
    if (typeof body[member] !== 'string' || body[member] === '') return `no ${member}`;
  }
  if (body.status !== answer.status) return `status member ${String(body.status)}`;
  if (answer.headers['x-request-id'] !== body.requestId) return 'X-Request-Id does not match requestId';
  return null;
}

/** Asserts an error answer: problem details with this status and code, the request id, the security headers. */
export function expectProblem(answer: Answer, status: number, code?: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(problemFault(answer)).toBeNull();
  if (code) expect((answer.body as { code: string }).code).toBe(code);
  expect(answer.headers).toMatchObject(SECURITY_HEADERS);
}
