/**
 * Every column holding a SecretCipher token: re-encrypted by `secrets:rotate`, sampled at start
 * against the key ring. A table that does not exist yet is passed over.
 */
export const ENCRYPTED_COLUMNS = [
  { table: 'users', column: 'mfa_secret' },
  { table: 'usage_keys', column: 'secret' },
  { table: 'otp_configs', column: 'secret' },
] as const;
