import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Problem = Schemas['ProblemDetails'];

/** Same origin as the service, so no CORS and no base URL. */
export const api = createClient<paths>({ baseUrl: '' });

/** A problem-details answer, kept whole so pages can show its `detail` and when to retry. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> & Record<string, unknown>,
    readonly retryAfterSeconds: number | null,
  ) {
    super(describe(status, problem, retryAfterSeconds));
    this.name = 'ApiError';
  }

  get code(): string | undefined {
    return this.problem.code;
  }

  get title(): string {
    return this.problem.title ?? `Request failed (${this.status})`;
  }
}

function describe(status: number, problem: Partial<Problem>, retryAfter: number | null): string {
  const base = problem.detail ?? problem.title ?? `The service answered ${status}`;
  const fields = (problem.errors ?? [])
    .map((e) => {
      const entry = e as { field?: string; message?: string; messages?: string[] };
      const text = entry.message ?? entry.messages?.join(', ');
      return entry.field && text ? `${entry.field}: ${text}` : text;
    })
    .filter(Boolean);
  let message = fields.length > 0 && !base.includes(String(fields[0])) ? `${base} (${fields.join('; ')})` : base;
  if ((status === 429 || status === 423) && retryAfter !== null && !/retry after|try again/i.test(message)) {
    message += ` Try again in ${formatWait(retryAfter)}.`;
  }
  return message;
}

export function formatWait(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  return `${Math.ceil(seconds / 60)} min`;
}

/** Seconds until retry: the Retry-After header, else a locked_until in the problem. */
function retryAfterOf(response: Response, problem: Record<string, unknown>): number | null {
  const header = response.headers.get('retry-after');
  if (header && /^\d+$/.test(header)) return Number(header);
  if (typeof problem.retry_after === 'number') return problem.retry_after;
  const until = problem.locked_until;
  if (typeof until === 'string') return Math.max(1, Math.ceil((Date.parse(until) - Date.now()) / 1000));
  return null;
}

export function toApiError(response: Response, error: unknown): ApiError {
  const problem = (typeof error === 'object' && error !== null ? error : { detail: String(error ?? '') }) as Record<
    string,
    unknown
  >;
  return new ApiError(response.status, problem, retryAfterOf(response, problem));
}

type Answer<T> = { data?: T; error?: unknown; response: Response };
type Refresher = () => Promise<boolean>;
let refresher: Refresher | null = null;

/** The session module registers how to renew an expired access token (once per failed call). */
export function setRefresher(fn: Refresher | null): void {
  refresher = fn;
}

/**
 * Runs one typed call and returns its data, or throws an ApiError carrying the problem.
 * A 401 on a signed-in call renews the access token once and repeats the call.
 */
export async function call<T>(run: () => Promise<Answer<T>>): Promise<T> {
  let answer = await run();
  if (answer.response.status === 401 && !isStepUp(answer.error) && refresher && (await refresher())) {
    answer = await run();
  }
  if (isStepUp(answer.error) && stepUpHandler && (await stepUpHandler())) answer = await run();
  if (answer.error !== undefined || !answer.response.ok) throw toApiError(answer.response, answer.error);
  return answer.data as T;
}

/** Revealing or replacing a secret may need a fresh password check (step-up): its problem code says so. */
export function isStepUp(problem: unknown): boolean {
  const code = typeof problem === 'object' && problem !== null ? (problem as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /STEP_UP/i.test(code);
}

type StepUpHandler = () => Promise<boolean>;
let stepUpHandler: StepUpHandler | null = null;
/** The step-up dialog registers itself here: it asks for the password (and code) and confirms. */
export function setStepUpHandler(handler: StepUpHandler | null): void {
  stepUpHandler = handler;
}

/** Fetch for routes whose answer is not JSON (exports, SVG): same auth, same error handling. */
export async function callRaw(path: string, init: RequestInit = {}): Promise<Response> {
  const run = () => fetch(path, { ...init, headers: { ...authHeader(), ...(init.headers ?? {}) } });
  let response = await run();
  if (response.status === 401 && refresher && (await refresher())) response = await run();
  if (!response.ok && stepUpHandler && response.headers.get('content-type')?.includes('json')) {
    const body: unknown = await response
      .clone()
      .json()
      .catch(() => null);
    if (isStepUp(body) && (await stepUpHandler())) response = await run();
  }
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => ({ detail: response.statusText }));
    throw toApiError(response, body);
  }
  return response;
}

let accessToken: string | null = null;
export function setAccessToken(token: string | null): void {
  accessToken = token;
}
function authHeader(): Record<string, string> {
  return accessToken ? { authorization: `Bearer ${accessToken}` } : {};
}

api.use({
  onRequest({ request }) {
    if (accessToken && !request.headers.has('authorization')) {
      request.headers.set('authorization', `Bearer ${accessToken}`);
    }
    return request;
  },
});
