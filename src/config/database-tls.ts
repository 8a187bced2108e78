import { readFileSync } from 'node:fs';
import { ConfigError } from './config.types.js';

/** TLS to the database as the `pg` driver takes it (`ssl`), or false for a plain connection. */
export type DatabaseTls = false | { readonly rejectUnauthorized: boolean; readonly ca?: string };

export interface DatabaseTlsSettings {
  /** DATABASE_SSL */
  enabled: boolean;
  /** DATABASE_SSL_REJECT_UNAUTHORIZED: false only for providers whose certificate cannot be checked. */
  rejectUnauthorized: boolean;
  /** DATABASE_SSL_CA: a PEM file path or the PEM text itself. */
  ca?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * The server certificate is verified by default (the system CAs, or DATABASE_SSL_CA for a
 * private CA); DATABASE_SSL_REJECT_UNAUTHORIZED=false turns the check off explicitly.
 */
export function databaseTls(settings: DatabaseTlsSettings, readFile = readCaFile): DatabaseTls {
  if (!settings.enabled) {
    for (const [variable, given] of [
      ['DATABASE_SSL_CA', settings.ca !== undefined],
      ['DATABASE_SSL_REJECT_UNAUTHORIZED', !settings.rejectUnauthorized],
    ] as const) {
      if (given) throw new ConfigError(variable, 'applies only with DATABASE_SSL=true');
    }
    return false;
  }
  if (settings.ca === undefined) return { rejectUnauthorized: settings.rejectUnauthorized };
  const pem = settings.ca.includes('-----BEGIN') ? settings.ca.replaceAll('\\n', '\n') : readFile(settings.ca);
  if (!PEM_CERTIFICATE.test(pem)) {
    throw new ConfigError(
      'DATABASE_SSL_CA',
      'must be a PEM certificate (-----BEGIN CERTIFICATE-----) or the path of one',
    );
  }
  return { rejectUnauthorized: settings.rejectUnauthorized, ca: pem };
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'DATABASE_SSL_CA',
      `cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
}
