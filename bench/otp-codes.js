// The live codes scenario: GET /api/v1/otp/codes for a person with 100 TOTP configurations,
// what an authenticator screen asks for: 100 codes computed (100 secrets decrypted) per request.
import { newSecret, totpAt, totpStep } from './totp.js';

export const LIVE_CODES_ACCOUNTS = 100;
const PASSWORD = 'Bench-Password-1!';

/** Signs a person up, imports LIVE_CODES_ACCOUNTS TOTP accounts in one request; answers the scenario overrides. */
export async function setupOtpCodes(ctx) {
  const username = `bench_codes_${ctx.random(6).replace(/[^A-Za-z0-9]/g, 'x')}`;
  const registered = await ctx.request('app', 'POST', '/api/v1/auth/register', {
    body: { username, email: `${username}@example.com`, password: PASSWORD },
  });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  const login = await ctx.request('app', 'POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  const headers = { authorization: `Bearer ${login.body.access_token}` };

  const secrets = Array.from({ length: LIVE_CODES_ACCOUNTS }, newSecret);
  const imported = await ctx.request('app', 'POST', '/api/v1/otp/configs/import', {
    body: { accounts: secrets.map((s, i) => ({ name: `bench-${String(i).padStart(3, '0')}`, secret: s.base32 })) },
    headers,
  });
  if (imported.status !== 200 || imported.body.imported !== LIVE_CODES_ACCOUNTS) {
    throw new Error(`import: ${imported.status} ${JSON.stringify(imported.body).slice(0, 300)}`);
  }

  // One answer checked against codes computed here: 100 items, each the right code.
  const probe = await ctx.request('app', 'GET', '/api/v1/otp/codes', { headers });
  if (probe.status !== 200 || probe.body.items?.length !== LIVE_CODES_ACCOUNTS) {
    throw new Error(`otp/codes: ${probe.status}, ${probe.body.items?.length} items (expected ${LIVE_CODES_ACCOUNTS})`);
  }
  const step = totpStep(Date.parse(probe.body.generated_at));
  const byName = new Map(probe.body.items.map((item) => [item.name, item.code]));
  const wrong = secrets.filter((s, i) => byName.get(`bench-${String(i).padStart(3, '0')}`) !== totpAt(s.key, step));
  if (wrong.length > 0) throw new Error(`otp/codes: ${wrong.length} of ${LIVE_CODES_ACCOUNTS} codes differ`);
  ctx.log(`app-otp-codes-100: ${LIVE_CODES_ACCOUNTS} TOTP configurations imported, codes checked`);
  return { headers };
}
