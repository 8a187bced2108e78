import type { Strategy } from 'passport';

/** What passport binds to one request on the object it calls `authenticate` on. */
const ACTIONS = ['success', 'fail', 'redirect', 'pass', 'error'] as const;

/** Authenticate options that name the strategies of the application serving the request. */
export interface ApplicationAuthenticateOptions {
  strategies?: Readonly<Record<string, Strategy>>;
}

/**
 * Passport keeps one registry of strategies per process, and @nestjs/passport's AuthGuard
 * reads it: the strategy registered last under a name serves every application in the
 * process. A process can hold several (the tests boot more than one, each with its own
 * secret, clock and database), so the guards name their own application's strategies in
 * the authenticate options, and a strategy handed a request of another application passes
 * it on to that application's strategy, with passport's actions for the request.
 *
 * Answers whether it passed the request on; with one application it never does.
 */
export function passedToOwnStrategy(call: object, name: string, request: unknown, options: unknown): boolean {
  const own = (options as ApplicationAuthenticateOptions | undefined)?.strategies?.[name];
  if (!own || Object.getPrototypeOf(call) === own) return false;
  const delegate = Object.create(own) as Record<string, unknown> & { authenticate(...args: unknown[]): void };
  for (const action of ACTIONS) delegate[action] = (call as Record<string, unknown>)[action];
  delegate.authenticate(request, options);
  return true;
}
