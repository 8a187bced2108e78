import type { GeneratedAdmin } from './users/admin-bootstrap.js';

/** What an operator needs after a start, printed as plain lines after the JSON logs. */
export interface StartNotice {
  url: string;
  docsUrl?: string;
  /** The embedded database's directory, when it is used. */
  embeddedDataDir?: string;
  /** The first administrator, when this start created it with a generated password. */
  admin?: GeneratedAdmin;
  /** Development secrets generated because they were not set, and the file that keeps them. */
  generatedSecrets?: { names: readonly string[]; file: string };
}

export function formatStartNotice(notice: StartNotice): string {
  const lines = ['', 'OTP service is ready', `  URL:       ${notice.url}`];
  if (notice.docsUrl) lines.push(`  API docs:  ${notice.docsUrl}`);
  if (notice.embeddedDataDir) {
    lines.push(
      `  Database:  embedded (PGlite) in ${notice.embeddedDataDir}; one process at a time,`,
      '             so stop the service before running `npm run cli` (or set DATABASE_URL)',
    );
  }
  if (notice.admin) lines.push(...formatGeneratedAdmin(notice.admin));
  if (notice.generatedSecrets) {
    lines.push(
      `  Development secrets (${notice.generatedSecrets.names.join(', ')}) were generated into`,
      `    ${notice.generatedSecrets.file}`,
      '    keep that file with the data: stored secrets cannot be decrypted without it. Set them in production.',
    );
  }
  return `${lines.join('\n')}\n\n`;
}

/** The generated first administrator's credentials; shown once, never logged. */
export function formatGeneratedAdmin(admin: GeneratedAdmin): string[] {
  return [
    `  First administrator: username "${admin.username}", one-time password "${admin.password}"`,
    '    it must be changed at the first sign-in (POST /api/v1/auth/change-password); it is not shown again.',
  ];
}
