/**
 * nova.conf's `[DEFAULT]` options of the move operations (nova/conf/compute.py), and their
 * resolution for the services that use them: the conductor (`allow_resize_to_same_host`) and
 * nova-compute (the others). Read from config files or OS_DEFAULT__<NAME> environment variables.
 * @module
 */
import { ConfigOpts } from './config.js';
import { BoolOpt, IntOpt, type Opt } from './opts.js';

export const novaMoveOpts: Opt<any>[] = [
  new BoolOpt('allow_resize_to_same_host', {
    default: false,
    help: 'Allow destination machine to match source for resize. Useful when testing in single-host environments.',
  }),
  new IntOpt('resize_confirm_window', {
    default: 0, min: 0,
    help: 'Automatically confirm resizes after N seconds. 0 disables automatic confirmation.',
  }),
  new IntOpt('shelved_offload_time', {
    default: 0, min: -1,
    help: 'Time before a shelved instance is eligible for removal from a host: -1 never offload, 0 offload immediately when shelved, N seconds.',
  }),
  new IntOpt('max_concurrent_live_migrations', {
    default: 1, min: 0,
    help: 'Maximum number of live migrations to run concurrently on a source host; the others wait queued. 0 means unlimited.',
  }),
];

export interface NovaMoveConfig {
  allowResizeToSameHost: boolean;
  resizeConfirmWindowSec: number;
  shelvedOffloadTimeSec: number;
  maxConcurrentLiveMigrations: number;
}

/** Registers the options on `conf` (a fresh ConfigOpts reading only the environment when none) and reads them. */
export function resolveNovaMoveConfig(conf?: ConfigOpts): NovaMoveConfig {
  const c = conf ?? new ConfigOpts();
  for (const o of novaMoveOpts) if (!c.has('DEFAULT', o.name)) c.register('DEFAULT', [o]);
  return {
    allowResizeToSameHost: c.get<boolean>('DEFAULT', 'allow_resize_to_same_host'),
    resizeConfirmWindowSec: c.get<number>('DEFAULT', 'resize_confirm_window'),
    shelvedOffloadTimeSec: c.get<number>('DEFAULT', 'shelved_offload_time'),
    maxConcurrentLiveMigrations: c.get<number>('DEFAULT', 'max_concurrent_live_migrations'),
  };
}
