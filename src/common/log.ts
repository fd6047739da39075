/**
 * pino JSON-line logging. Every line carries service and host, and the request ids of the
 * context in progress (AsyncLocalStorage), so `grep req-...` follows a request across services.
 * @module
 */
import pino, { type Logger } from 'pino';
import { currentContext } from './context.js';

const level = process.env['STRATUS_LOG_LEVEL'] ?? (process.env['STRATUS_TEST'] ? 'warn' : 'info');

let destination: pino.DestinationStream | undefined;
/** Send all logs to a file (stratus up writes them to <state-dir>/stratus.log). */
export function setLogDestination(path: string): void {
  destination = pino.destination({ dest: path, mkdir: true, sync: false });
  root = makeRoot();
}

function makeRoot(): Logger {
  const opts: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const ctx = currentContext();
      return ctx ? ctx.logFields() : {};
    },
  };
  return destination ? pino(opts, destination) : pino(opts, pino.destination(2));
}

let root: Logger = makeRoot();

/**
 * Loggers are often made at module load, before `stratus up` points the logs at its state
 * directory; each one re-binds to the current root when the destination changes.
 */
export function getLogger(service: string, host?: string): Logger {
  const bindings = host ? { service, host } : { service };
  let boundTo = root;
  let child = root.child(bindings);
  return new Proxy(child, {
    get(_target, prop) {
      if (boundTo !== root) {
        boundTo = root;
        child = root.child(bindings);
      }
      const v = Reflect.get(child, prop, child) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(child) : v;
    },
  });
}

export type { Logger };
