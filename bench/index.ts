/**
 * `npm run bench -- <name> [args]`: runs one benchmark (or all with no name) and prints its figures.
 * Each bench module exports `run(args: string[]): Promise<void>`. The services log as under
 * `stratus up`, to a file (its path is printed), so the figures are not buried in log lines.
 */
import os from 'node:os';
import path from 'node:path';
import { setLogDestination } from '../src/common/log.js';

const benches: Record<string, string> = {
  machine: './machine.ts',
  bus: './bus.ts',
  startup: './startup.ts',
  identity: './identity.ts',
  placement: './placement.ts',
  image: './image.ts',
  network: './network.ts',
  boot: './boot.ts',
  volume: './volume.ts',
};

const [name, ...args] = process.argv.slice(2);
const logFile = path.join(os.tmpdir(), `stratus-bench-${process.pid}.log`);
setLogDestination(logFile);
console.log(`service logs: ${logFile}`);
const names = name ? [name] : Object.keys(benches);
for (const n of names) {
  const file = benches[n];
  if (!file) {
    console.error(`unknown bench '${n}'; one of: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  let mod: { run(args: string[]): Promise<void> };
  try {
    mod = (await import(file)) as typeof mod;
  } catch (e) {
    console.error(`bench ${n}: not available (${(e as Error).message.split('\n')[0]})`);
    continue;
  }
  console.log(`== bench ${n}`);
  await mod.run(args);
}
process.exit(0);
