// The entry of stratus up's worker thread. Module loader hooks are per thread in Node 20: a
// worker started from `bin/stratus.mjs` (which registers tsx itself) has none, one started
// under `node --import tsx` may have them from that flag. Probe with a tiny TypeScript module
// (a failed import stays failed for that URL), register tsx if needed, then load the entry.
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';

try {
  await import(new URL('./cloud-worker-protocol.ts', import.meta.url).href);
} catch (e) {
  if (e?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
  const tsx = await import('tsx/esm/api');
  tsx.register();
}
register(new URL('./kysely-commonjs-hooks.mjs', import.meta.url));
await import(workerData.entry);
