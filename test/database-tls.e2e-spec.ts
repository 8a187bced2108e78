import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { startTlsPostgres, TlsPostgres } from './support/tls-postgres.js';
import { testEnv } from './support/test-app.js';

describe('database TLS (a real Postgres with a self-signed certificate)', () => {
  let server: TlsPostgres;

  beforeAll(async () => {
    server = await startTlsPostgres();
  });
  afterAll(() => server?.stop());

  /** Connects as the service would with these settings; answers whether the session is encrypted. */
  async function connect(env: Record<string, string>): Promise<boolean> {
    const { config } = loadConfig(testEnv({ DATABASE_URL: server.url, ...env }));
    const ds = new DataSource(dataSourceOptions({ ...config.database, url: server.url, poolSize: 1 }));
    await ds.initialize();
    try {
      const [{ ssl }] = await ds.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return ssl;
    } finally {
      await ds.destroy();
    }
  }

  it('refuses a server certificate from an unknown CA when DATABASE_SSL=true', async () => {
    await expect(connect({ DATABASE_SSL: 'true' })).rejects.toThrow(/self-signed certificate/);
  });

  it('accepts it when DATABASE_SSL_CA names the certificate, over an encrypted session', async () => {
    expect(await connect({ DATABASE_SSL: 'true', DATABASE_SSL_CA: server.certFile })).toBe(true);
  });

  it('accepts any certificate only with an explicit DATABASE_SSL_REJECT_UNAUTHORIZED=false', async () => {
    expect(await connect({ DATABASE_SSL: 'true', DATABASE_SSL_REJECT_UNAUTHORIZED: 'false' })).toBe(true);
  });

  it('connects in clear when DATABASE_SSL is off', async () => {
    expect(await connect({})).toBe(false);
  });
});
