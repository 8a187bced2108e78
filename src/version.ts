import { existsSync, readFileSync } from 'node:fs';

/** The package version, read once (the file sits one level higher in the built output). */
function readVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'otp-service' && pkg.version) return pkg.version;
    }
  }
  return '0.0.0';
}

export const SERVICE_NAME = 'otp-service';
export const SERVICE_VERSION = readVersion();
