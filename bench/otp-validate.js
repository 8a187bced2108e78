// The OTP validation scenario: POST /api/v1/otp/validate as a signed-in person, each request
// the next HOTP code of one of many configurations, so every request is a real write (the
// counter moves and a validate_success event is recorded, in one statement).
import { createHmac } from 'node:crypto';

/** Far more configurations than requests in flight, so no two requests race for one counter. */
const CONFIGS = Number(process.env.BENCH_OTP_CONFIGS || 200);
const SECRET_HEX = '3132333435363738393031323334353637383930'; // RFC 4226's test secret
const SECRET_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** RFC 4226 HOTP, SHA-1, 6 digits: written out here so the bench checks the service independently. */
function hotp(counter) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const hmac = createHmac('sha1', Buffer.from(SECRET_HEX, 'hex')).update(message).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  return String((hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Signs a user up, creates CONFIGS HOTP configurations through the API; answers the scenario overrides. */
export async function setupOtpValidate(ctx) {
  const username = `bench_otp_${ctx.random(6).replace(/[^A-Za-z0-9]/g, 'x')}`;
  const password = 'Bench-Password-1!';
  const registered = await ctx.request('app', 'POST', '/api/v1/auth/register', {
    body: { username, email: `${username}@example.com`, password },
  });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
  const login = await ctx.request('app', 'POST', '/api/v1/auth/login', { body: { username, password } });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  const headers = { authorization: `Bearer ${login.body.access_token}`, 'content-type': 'application/json' };

  const ids = [];
  for (let i = 0; i < CONFIGS; i++) {
    const res = await ctx.request('app', 'POST', '/api/v1/otp/configs', {
      body: { name: `bench-${i}`, otp_type: 'hotp', secret: SECRET_BASE32 },
      headers,
    });
    if (res.status !== 201) throw new Error(`create config: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(res.body.id);
  }
  ctx.log(`app-otp-validate: ${CONFIGS} HOTP configurations created`);

  const counters = new Array(CONFIGS).fill(0);
  let next = 0;
  const outcomes = { valid: 0, invalid: 0 };
  return {
    headers,
    outcomes,
    autocannon: {
      requests: [
        {
          setupRequest(request) {
            const i = next++ % CONFIGS;
            return { ...request, body: JSON.stringify({ config_id: ids[i], otp_code: hotp(counters[i]++) }) };
          },
          onResponse(status, body) {
            if (status === 200 && body.includes('"is_valid":true')) outcomes.valid++;
            else outcomes.invalid++;
          },
        },
      ],
    },
  };
}
