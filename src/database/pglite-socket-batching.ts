import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** A protocol message waiting in pglite-socket's queue (0.2.x internals). */
interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
  onData: (data: Uint8Array) => void;
}

interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/** Extended-protocol messages that leave a batch open until the client's Sync. */
const BATCH_MESSAGES = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));

/**
 * pglite-socket runs the messages of all connections through one queue, one message at a
 * time, and keeps a connection to itself only inside a transaction. A parameterised query
 * outside a transaction is several messages (Parse, Bind, Describe, Execute, Sync) and the
 * single backend has one unnamed statement and portal: when two connections' messages
 * interleave, one binds the other's statement ("unnamed prepared statement does not
 * exist", parameters of the wrong type). This keeps a connection to itself from its first
 * extended-protocol message to its Sync as well, like a real server does per connection.
 */
export function serializeExtendedProtocolBatches(server: PGLiteSocketServer): void {
  const queue = (server as unknown as { queryQueue?: QueryQueue }).queryQueue;
  if (!queue || typeof queue.processQueue !== 'function' || !Array.isArray(queue.queue)) {
    throw new Error('pglite-socket internals changed: review serializeExtendedProtocolBatches');
  }
  let openBatch = false;

  queue.processQueue = async function processQueue(this: QueryQueue): Promise<void> {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const sticky = this.lastHandlerId !== null && (openBatch || this.db.isInTransaction());
        const index = sticky ? this.queue.findIndex((item) => item.handlerId === this.lastHandlerId) : 0;
        if (index === -1) break; // wait for the rest of this connection's batch or transaction
        const [item] = this.queue.splice(index, 1) as [QueuedMessage];
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (error) {
          openBatch = false;
          item.reject(error);
          continue;
        }
        this.lastHandlerId = item.handlerId;
        openBatch = BATCH_MESSAGES.has(item.message[0]!);
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }.bind(queue);

  const clear = queue.clearQueueForHandler.bind(queue);
  queue.clearQueueForHandler = (handlerId: number): void => {
    clear(handlerId);
    if (queue.lastHandlerId === handlerId && openBatch) {
      openBatch = false;
      void queue.processQueue();
    }
  };
}
