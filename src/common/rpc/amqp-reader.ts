/**
 * rabbitmq-client reads every AMQP frame as two promisified socket reads (header, then
 * payload), which made reading a tenth of a consumer's CPU. This wraps its reader so that a
 * read the socket can already satisfy returns the bytes at once; the library's frame decoder
 * awaits the result either way, and reads that must wait still go through the original.
 * Installed once per process when the RabbitMQ transport loads; if the library's internals
 * are not where they were (another major version), nothing is changed.
 * @module
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';

type AsyncRead = (bytes: number) => Promise<Buffer>;
interface UtilModule {
  createAsyncReader?: (socket: Readable) => AsyncRead;
  __stratusFastRead?: boolean;
}

export function installFastReader(): boolean {
  const util = createRequire(import.meta.url)('rabbitmq-client/lib/util.js') as UtilModule;
  if (util.__stratusFastRead) return true;
  const original = util.createAsyncReader;
  if (typeof original !== 'function') return false;
  util.createAsyncReader = (socket: Readable): AsyncRead => {
    const waitFor = original(socket);
    // One read at a time (the library awaits each), so this never overtakes a waiting read.
    return ((bytes: number) => {
      if (socket.readableLength >= bytes) {
        const buf = socket.read(bytes) as Buffer | null;
        if (buf && buf.length === bytes) return buf;
        if (buf) socket.unshift(buf);
      }
      return waitFor(bytes);
    }) as AsyncRead;
  };
  util.__stratusFastRead = true;
  return true;
}
