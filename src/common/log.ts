/**
 * pino JSON-line logging. Every line carries service and host, and the request ids of the
 * context in progress (AsyncLocalStorage), so `grep req-...` follows a request across services.
 * @module
 */
import pino, { type Logger } from 'pino';
import { currentContext } from './context.js';

const level = process.env['STRATUS_LOG_LEVEL'] ?? (process.env['STRATUS_TEST'] ? 'warn' : 'info');

let destination: pino.DestinationStream | undefined;
let file: ReturnType<typeof pino.destination> | undefined;
/**
 * Send all logs to a file (stratus up writes them to <state-dir>/stratus.log). Lines are written
 * in batches of at least 8 KiB, and at the latest every 100 ms, by a plain write(2) on this
 * thread: one write per line, through the thread pool, cost a thread hand-off per request
 * (and stalled the loop while the worker took the core). What is left is written at exit.
 */
export function setLogDestination(path: string): void {
  flushLogFile();
  file = pino.destination({ dest: path, mkdir: true, sync: true, minLength: 8192, periodicFlush: 100 });
  destination = file;
  root = makeRoot();
}
/** Writes out what the file destination holds (in sync mode flush() writes at once, without fsync). */
function flushLogFile(): void {
  try {
    file?.flush();
  } catch {
    // A destroyed destination: nothing left to write it to.
  }
}
process.on('exit', flushLogFile);

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
  // Methods bound once per child, not on every call (`log.info` is on every request's path).
  let methods = new Map<string | symbol, unknown>();
  return new Proxy(child, {
    get(_target, prop) {
      if (boundTo !== root) {
        boundTo = root;
        child = root.child(bindings);
        methods = new Map();
      }
      const v = Reflect.get(child, prop, child) as unknown;
      if (typeof v !== 'function') return v;
      let bound = methods.get(prop) as { fn: unknown; bound: unknown } | undefined;
      if (!bound || bound.fn !== v) methods.set(prop, (bound = { fn: v, bound: (v as (...a: unknown[]) => unknown).bind(child) }));
      return bound.bound;
    },
  });
}

export type { Logger };
