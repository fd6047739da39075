/**
 * Availability zones as nova/availability_zones.py sees them: a compute host's zone is the
 * `availability_zone` metadata of an aggregate it is in, else `[DEFAULT]default_availability_zone`
 * ('nova'); control services are in `internal`. Used by unshelve (API checks, 2.77 / 2.91) and
 * by the conductor, which pins an unshelved server to its new host's zone.
 * @module
 */
import type { Database } from '../common/db/connection.js';

export const DEFAULT_AVAILABILITY_ZONE = 'nova';
export const INTERNAL_AVAILABILITY_ZONE = 'internal';

/** get_host_availability_zone: the zone of compute host `host`. */
export async function hostAvailabilityZone(api: Database, host: string): Promise<string> {
  const row = await api.db.selectFrom('aggregate_hosts').innerJoin('aggregate_metadata', 'aggregate_metadata.aggregate_id', 'aggregate_hosts.aggregate_id')
    .select('aggregate_metadata.value as value').where('aggregate_hosts.host', '=', host).where('aggregate_metadata.key', '=', 'availability_zone')
    .orderBy('aggregate_hosts.aggregate_id').executeTakeFirst();
  return (row?.['value'] as string | undefined) ?? DEFAULT_AVAILABILITY_ZONE;
}

/** get_availability_zones(get_only_available=True): the zones of enabled services. */
export async function availableZones(api: Database, services: { host: string; binary: string; disabled: boolean }[]): Promise<Set<string>> {
  const zones = new Set<string>();
  for (const s of services) {
    if (s.disabled) continue;
    zones.add(s.binary === 'nova-compute' ? await hostAvailabilityZone(api, s.host) : INTERNAL_AVAILABILITY_ZONE);
  }
  return zones;
}
