/**
 * cinder-scheduler's filter scheduler: host states from the volume services' capability fanouts,
 * AvailabilityZoneFilter + CapacityFilter, CapacityWeigher (most free space wins), then a cast
 * to the chosen backend. No valid host -> the volume goes to `error`, as Cinder does.
 * @module
 */
import type { RequestContext } from '../common/context.js';
import { getLogger } from '../common/log.js';
import { nowIso, type CinderDb } from './db/api.js';
import { VolumeAPI, type CreateVolumeRequest } from './rpcapi.js';
import { Action, Detail, recordMessage } from './messages.js';
import type { MessageBus } from '../common/rpc/index.js';

export interface HostState {
  host: string; // host@backend
  availabilityZone: string;
  totalGb: number;
  freeGb: number;
  reservedPercentage: number;
  updatedAt: number;
  pool: string;
  /** The backend's whole report (driver stats). */
  raw: Record<string, unknown>;
}

export function capacityFilter(h: HostState, size: number): boolean {
  const reserved = Math.floor(h.totalGb * h.reservedPercentage / 100);
  return h.freeGb - reserved >= size;
}

export function availabilityZoneFilter(h: HostState, az: string | null | undefined): boolean {
  return !az || h.availabilityZone === az;
}

/** CapacityWeigher: the host with the most free space first. */
export function weighHosts(hosts: HostState[]): HostState[] {
  return [...hosts].sort((a, b) => b.freeGb - a.freeGb || a.host.localeCompare(b.host));
}

/** `extra_specs_ops.match`: the operators Cinder's extra specs use, else string equality. */
export function specMatches(cap: unknown, req: string): boolean {
  const c = String(cap);
  const words = req.trim().split(/\s+/);
  const op = words[0]!;
  const arg = words.slice(1).join(' ');
  switch (op) {
    case '<is>': return c.toLowerCase() === arg.toLowerCase();
    case '<in>': return c.includes(arg);
    case '<or>': return req.split('<or>').map((x) => x.trim()).filter(Boolean).includes(c);
    case '==': case '=': return Number(c) === Number(arg);
    case '!=': return Number(c) !== Number(arg);
    case '>=': return Number(c) >= Number(arg);
    case '<=': return Number(c) <= Number(arg);
    case 's==': return c === arg;
    default: return c === req;
  }
}

/**
 * CapabilitiesFilter: every unscoped (or `capabilities:`) extra spec of the volume's type must be
 * satisfied by what the backend reports; other scopes (`RESKEY:`, `qos:` ...) are not its business.
 */
export function capabilitiesFilter(h: HostState, specs: Record<string, string>): boolean {
  for (const [rawKey, want] of Object.entries(specs)) {
    let key = rawKey;
    if (key.includes(':')) {
      if (!key.startsWith('capabilities:')) continue;
      key = key.slice('capabilities:'.length);
    }
    const cap = key === 'volume_backend_name' ? h.raw['volume_backend_name'] ?? h.pool : h.raw[key];
    if (cap === undefined || cap === null) return false;
    if (!specMatches(cap, want)) return false;
  }
  return true;
}

export class SchedulerManager {
  readonly target = { version: '3.12' };
  private readonly hosts = new Map<string, HostState>();
  private readonly volumeApi: VolumeAPI;
  private readonly log;

  constructor(private readonly db: CinderDb, bus: MessageBus, host: string) {
    this.volumeApi = new VolumeAPI(bus, { service: 'cinder-scheduler', host });
    this.log = getLogger('cinder-scheduler', host);
  }

  update_service_capabilities(_ctx: RequestContext, args: { service_name: string; host: string; capabilities: Record<string, any> }): void {
    if (args.service_name !== 'volume') return;
    const c = args.capabilities;
    this.hosts.set(args.host, {
      host: args.host,
      availabilityZone: String(c['availability_zone'] ?? 'nova'),
      totalGb: Number(c['total_capacity_gb'] ?? 0),
      freeGb: Number(c['free_capacity_gb'] ?? 0),
      reservedPercentage: Number(c['reserved_percentage'] ?? 0),
      pool: String(c['pool_name'] ?? c['volume_backend_name'] ?? 'pool'),
      updatedAt: Date.now(),
      raw: { ...c },
    });
  }

  /** `get_pools` (call): every known pool and its last reported capabilities. */
  async get_pools(_ctx: RequestContext, args: { filters?: { name?: string } | null }): Promise<Record<string, unknown>[]> {
    await this.waitForHosts();
    return [...this.hosts.values()]
      .map((h) => ({
        name: `${h.host}#${h.pool}`,
        capabilities: {
          pool_name: h.pool, volume_backend_name: h.pool, total_capacity_gb: h.totalGb, free_capacity_gb: h.freeGb,
          reserved_percentage: h.reservedPercentage, timestamp: new Date(h.updatedAt).toISOString(), ...h.raw,
        },
      }))
      .filter((p) => !args.filters?.name || p.name === args.filters.name);
  }

  /** Cinder waits for the first capability reports before it schedules (`_wait_for_scheduler`). */
  private async waitForHosts(): Promise<void> {
    for (let i = 0; i < 60 && this.hosts.size === 0; i++) await new Promise((r) => setTimeout(r, 50));
  }

  async create_volume(ctx: RequestContext, req: CreateVolumeRequest): Promise<void> {
    // The request spec carries what scheduling needs (size, zone, type), as Cinder's does.
    const spec = req.request_spec as { size?: number; availability_zone?: string | null; volume_type_id?: string | null };
    const vol = { id: req.volume_id, size: Number(spec.size ?? 0), availability_zone: spec.availability_zone ?? null, volume_type_id: spec.volume_type_id ?? null };
    let chosen: HostState | undefined;
    // A clone or a volume from a snapshot lives on its source's backend.
    const sourceId = req.source_volid ?? (req.snapshot_id ? (await this.db.getSnapshot(req.snapshot_id))?.volume_id : null);
    const source = sourceId ? await this.db.getVolume(sourceId) : undefined;
    await this.waitForHosts();
    if (source?.host) {
      chosen = [...this.hosts.values()].find((h) => h.host === source.host!.split('#')[0]);
    } else {
      // Disabled services take no new volumes (the host manager skips them).
      const disabled = new Set(await this.db.disabledServiceHosts('cinder-volume'));
      const type = (req.request_spec as { volume_type?: { extra_specs?: Record<string, string> } | null }).volume_type;
      const specs = type?.extra_specs ?? (vol.volume_type_id ? await this.db.getMeta('volume_type_extra_specs', vol.volume_type_id) : {});
      const candidates = [...this.hosts.values()]
        .filter((h) => !disabled.has(h.host))
        .filter((h) => capabilitiesFilter(h, specs))
        .filter((h) => availabilityZoneFilter(h, vol.availability_zone))
        .filter((h) => capacityFilter(h, vol.size));
      chosen = weighHosts(candidates)[0];
    }
    if (!chosen) {
      this.log.warn({ volume_id: vol.id }, 'No valid backend was found. No weighed backends available');
      if (!(await this.db.updateVolume(vol.id, { status: 'error' }, ['creating']))) return;
      const projectId = (await this.db.getVolume(vol.id))?.project_id ?? ctx.projectId ?? '';
      await recordMessage(this.db, ctx, {
        projectId, resourceType: 'VOLUME', resourceUuid: vol.id, action: Action.SCHEDULE_ALLOCATE_VOLUME, detail: Detail.NO_BACKEND_AVAILABLE,
      });
      return;
    }
    chosen.freeGb -= vol.size; // consume until the next report, as HostState.consume_from_volume does
    const host = `${chosen.host}#${chosen.pool}`;
    // Gone already (deleted while it waited): nothing to create.
    if (!(await this.db.updateVolume(vol.id, { host, scheduled_at: nowIso(), availability_zone: chosen.availabilityZone }))) {
      chosen.freeGb += vol.size;
      return;
    }
    await this.volumeApi.createVolume(ctx, host, req);
  }
}
