/** Where each replaced system's routes live: a base URL such as `https://otp.example.com/compat/device-otp`. */
export const COMPAT_PATHS = {
  usageKeys: 'compat/usage-keys',
  mfaManager: 'compat/mfa-manager',
  deviceOtp: 'compat/device-otp',
  totpAuth: 'compat/totp-auth',
  otpMicroservice: 'compat/otp-microservice',
} as const;

/**
 * Prefixes whose routes answer with and without a trailing slash: the replaced FastAPI
 * service's clients call `/users/` and `/otp/configs/`, while Nest registers paths
 * without one. Elsewhere a trailing slash stays a different (unknown) path.
 */
const TRAILING_SLASH_OPTIONAL = [`/${COMPAT_PATHS.otpMicroservice}/`];

/** The URL to route: under those prefixes, the path without its trailing slash (the query kept). */
export function routedCompatUrl(url: string): string {
  if (!TRAILING_SLASH_OPTIONAL.some((prefix) => url.startsWith(prefix))) return url;
  const query = url.indexOf('?');
  const path = query >= 0 ? url.slice(0, query) : url;
  if (!path.endsWith('/')) return url;
  return path.slice(0, -1) + (query >= 0 ? url.slice(query) : '');
}
