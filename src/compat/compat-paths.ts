/** Where each replaced system's routes live: a base URL such as `https://otp.example.com/compat/device-otp`. */
export const COMPAT_PATHS = {
  usageKeys: 'compat/usage-keys',
  mfaManager: 'compat/mfa-manager',
  deviceOtp: 'compat/device-otp',
  totpAuth: 'compat/totp-auth',
  otpMicroservice: 'compat/otp-microservice',
} as const;
