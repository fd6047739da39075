/**
 * The neutron.conf options Stratus honours beyond the common ones, declared oslo.config-style.
 * @module
 */
import type { ConfigOpts } from '../common/config/index.js';
import { FloatOpt, type Opt } from '../common/config/opts.js';
import { DEFAULT_SEND_EVENTS_INTERVAL_MS } from './notifiers/nova.js';

export const neutronOpts: Record<string, Opt<any>[]> = {
  DEFAULT: [
    new FloatOpt('send_events_interval', {
      default: DEFAULT_SEND_EVENTS_INTERVAL_MS / 1000,
      min: 0,
      help: 'Seconds between sending batches of events to Nova (neutron: 2; Stratus: 0.01, so a boot does not wait on the batch).',
    }),
  ],
};

/** The Nova notifier's batch interval in ms from neutron.conf (registering the option), or the default. */
export function sendEventsIntervalMs(config?: ConfigOpts): number {
  if (!config) return DEFAULT_SEND_EVENTS_INTERVAL_MS;
  for (const [g, opts] of Object.entries(neutronOpts)) config.register(g, opts);
  return config.get<number>('DEFAULT', 'send_events_interval') * 1000;
}
