import { mkdirSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { DataDirLock } from './data-dir-lock.js';
import { serializeExtendedProtocolBatches } from './pglite-socket-batching.js';

/**
 * Real Postgres compiled to WASM (PGlite), served on a loopback port so the service
 * reaches it with the ordinary `pg` driver and the same SQL as in production. The
 * socket server multiplexes connections and keeps a transaction on its own connection.
 * A directory is opened by one process at a time (DataDirLock): two PGlite instances on one
 * directory do not see each other's writes and can corrupt it.
 */
export class EmbeddedPostgres {
  private constructor(
    private readonly db: PGlite,
    private readonly server: PGLiteSocketServer,
    readonly url: string,
    private readonly lock: DataDirLock | undefined,
    private readonly sockets: Set<Socket>,
  ) {}

  /**
   * `dataDir` undefined keeps the database in memory (no lock needed). Throws
   * EmbeddedDatabaseLockedError when another live process has the directory open.
   * `template` (a `dump()`) starts a new database as a copy instead of running initdb.
   */
  static async start(
    dataDir: string | undefined,
    maxConnections: number,
    options: { template?: Blob } = {},
  ): Promise<EmbeddedPostgres> {
    let lock: DataDirLock | undefined;
    if (dataDir) {
      mkdirSync(dirname(dataDir), { recursive: true });
      lock = DataDirLock.acquire(dataDir);
    }
    try {
      if (dataDir) mkdirSync(dataDir, { recursive: true });
      const db = await PGlite.create(dataDir, options.template ? { loadDataDir: options.template } : {});
      const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
      serializeExtendedProtocolBatches(server);
      let port = 0;
      server.addEventListener('listening', (event) => {
        port = (event as CustomEvent<{ port: number }>).detail.port;
      });
      await server.start();
      // Every accepted socket, so stop() can end them all: the socket server does not end one it
      // turned away past maxConnections, and closing waits for every socket to end.
      const sockets = new Set<Socket>();
      (server as unknown as { server: Server }).server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      return new EmbeddedPostgres(db, server, `postgres://postgres@127.0.0.1:${port}/postgres`, lock, sockets);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  /** The whole database as a tarball, for `start(…, { template })`. */
  dump(): Promise<Blob> {
    return this.db.dumpDataDir('none');
  }

  async stop(): Promise<void> {
    try {
      const stopped = this.server.stop();
      for (const socket of this.sockets) socket.destroy();
      await stopped;
      await this.db.close();
    } finally {
      this.lock?.release();
    }
  }
}
