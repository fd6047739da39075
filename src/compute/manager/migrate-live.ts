/**
 * Live migration on the compute hosts (nova/compute/manager.py `check_can_live_migrate_*`,
 * `live_migration`, `_do_live_migration`, `pre_live_migration`, `_post_live_migration`,
 * `post_live_migration_at_destination`, `_rollback_live_migration`,
 * `live_migration_force_complete`, `live_migration_abort`):
 *
 *   conductor --check_can_live_migrate_destination (call)--> dest --check_can_live_migrate_source (call)--> source
 *   conductor --live_migration (cast)--> source --pre_live_migration (call)--> dest
 *   source: migration queued -> preparing -> running (the guest's memory is copied) ->
 *   source --post_live_migration_at_destination (call)--> dest (host, ports, ACTIVE) -> completed,
 *   the migration's hold on the source's resources in Placement is dropped.
 *   Abort or failure: _rollback_live_migration (allocations back, task cleared, `cancelled`/`error`).
 *
 * The guest memory copy is simulated for the fake driver: it takes
 * `setFakeLiveMigrationDuration(host, ms)` (default 0) and reports progress on the migration record.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { withSpan } from '../../common/journey/span.js';
import type { ComputeManager } from '../manager.js';
import type { Instance } from '../objects/instance.js';
import type { Migration} from '../objects/migration.js';
import { MigrationStatus } from '../objects/migration.js';
import type { ComputeAPI } from '../rpcapi.js';
import { TaskState, VmState } from '../states.js';
import { MoveVolumes, type OldAttachments } from './move-volumes.js';
import type { BlockDeviceMapping } from '../objects/block-device.js';

const durations = new Map<string, number>();
/** Test hook: how long the fake guest's memory copy takes on a source host. */
export function setFakeLiveMigrationDuration(host: string, ms: number): void {
  durations.set(host, ms);
}

export type MigrateData = Record<string, unknown>;

interface Running {
  migration: Migration;
  abort: boolean;
  forceComplete: boolean;
  /** Still waiting for one of the host's `max_concurrent_live_migrations` slots. */
  queued: boolean;
  dest: string;
  /** The volume BDMs before the move (_rollback_volume_bdms puts them back). */
  originalBdms?: BlockDeviceMapping[];
}

export class ComputeLiveMigrationManager {
  readonly target = { version: '5.1' };
  /** instance uuid -> the live migration this host is running as its source. */
  private readonly running = new Map<string, Running>();
  /** Live migrations this source runs at once; the rest wait `queued` (Nova's executor). */
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** `[DEFAULT]max_concurrent_live_migrations` (Nova's default 1; 0 means unlimited). */
  private readonly volumes: MoveVolumes;
  constructor(private readonly m: ComputeManager, private readonly rpc: ComputeAPI, private readonly maxConcurrent = 1) {
    this.volumes = new MoveVolumes(m);
  }

  private async takeSlot(): Promise<void> {
    if (this.maxConcurrent <= 0 || this.active < this.maxConcurrent) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight to the next queued migration
    else this.active--;
  }

  // ---------------------------------------------------------------- pre-checks (calls)

  async check_can_live_migrate_destination(ctx: RequestContext, a: { instance: Instance; block_migration: boolean | string | null; disk_over_commit: boolean | null; migration?: Migration | null }): Promise<MigrateData> {
    const instance = a.instance;
    let data: MigrateData = {};
    await this.m.actionEvent(ctx, instance, 'compute_check_can_live_migrate_destination', async () => {
      const blockMigration = a.block_migration === 'auto' || a.block_migration === null ? true : Boolean(a.block_migration);
      const dest: MigrateData = { block_migration: blockMigration, disk_over_commit: a.disk_over_commit ?? false, dest_host: this.m.host, is_shared_instance_path: false };
      data = await this.rpc.checkCanLiveMigrateSource(ctx, instance.host!, { instance, dest_check_data: dest });
    });
    return data;
  }

  async check_can_live_migrate_source(ctx: RequestContext, a: { instance: Instance; dest_check_data: MigrateData }): Promise<MigrateData> {
    let out: MigrateData = {};
    await this.m.actionEvent(ctx, a.instance, 'compute_check_can_live_migrate_source', async () => {
      if (!this.m.driver.instanceExists(a.instance)) throw new Error(`Instance ${a.instance.uuid} is not running on ${this.m.host}`);
      out = { ...a.dest_check_data, source_host: this.m.host };
    });
    return out;
  }

  // ---------------------------------------------------------------- source: live_migration

  async live_migration(ctx: RequestContext, a: { instance: Instance; dest: string; block_migration: boolean; migration: Migration; migrate_data: MigrateData }): Promise<void> {
    const { instance, migration } = a;
    migration.status = MigrationStatus.QUEUED;
    await migration.save(ctx);
    const run: Running = { migration, abort: false, forceComplete: false, queued: true, dest: a.dest };
    this.running.set(instance.uuid, run);
    await this.takeSlot();
    try {
      // Aborted while queued (2.65): live_migration_abort already rolled it back.
      if (run.abort) return;
      run.queued = false;
      await this.m.actionEvent(ctx, instance, 'compute_live_migration', () => this.doLiveMigration(ctx, instance, a.dest, run, a.migrate_data));
    } finally {
      this.releaseSlot();
      if (this.running.get(instance.uuid) === run) this.running.delete(instance.uuid);
    }
  }

  private async doLiveMigration(ctx: RequestContext, instance: Instance, dest: string, run: Running, migrateData: MigrateData): Promise<void> {
    const migration = run.migration;
    try {
      migration.status = MigrationStatus.PREPARING;
      await migration.save(ctx);
      run.originalBdms = await this.volumes.snapshot(ctx, instance);
      const data = await this.rpc.preLiveMigration(ctx, dest, { instance, block_migration: Boolean(migrateData['block_migration']), disk: null, migrate_data: migrateData });
      if (run.abort) return this.rollback(ctx, instance, dest, migration, MigrationStatus.CANCELLED);
      migration.status = MigrationStatus.RUNNING;
      migration.memory_total = instance.memory_mb * 1024 * 1024;
      migration.memory_processed = 0;
      migration.memory_remaining = migration.memory_total;
      migration.disk_total = 0;
      migration.disk_processed = 0;
      migration.disk_remaining = 0;
      await migration.save(ctx);
      const completed = await withSpan({ kind: 'internal', name: 'driver.live_migration', service: 'nova-compute', host: this.m.host, attributes: { instance: instance.uuid, dest } },
        () => this.copyMemory(ctx, run));
      if (!completed) return this.rollback(ctx, instance, dest, migration, MigrationStatus.CANCELLED);
      await this.postLiveMigration(ctx, instance, dest, migration, data);
    } catch (e) {
      this.m.log.error({ err: e, instance: instance.uuid }, 'Live migration failed');
      await this.rollback(ctx, instance, dest, migration, MigrationStatus.ERROR).catch(() => undefined);
      throw e;
    }
  }

  /** The fake memory copy: progress every 50 ms until done, aborted (false) or forced to complete. */
  private async copyMemory(ctx: RequestContext, run: Running): Promise<boolean> {
    const total = durations.get(this.m.host) ?? 0;
    const t0 = Date.now();
    const mig = run.migration;
    for (;;) {
      if (run.abort) return false;
      const elapsed = Date.now() - t0;
      if (run.forceComplete || elapsed >= total) break;
      const done = Math.floor((mig.memory_total ?? 0) * (elapsed / Math.max(1, total)));
      mig.memory_processed = done;
      mig.memory_remaining = (mig.memory_total ?? 0) - done;
      await mig.save(ctx).catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.min(50, total - elapsed)));
    }
    mig.memory_processed = mig.memory_total;
    mig.memory_remaining = 0;
    return true;
  }

  /** _post_live_migration on the source: the guest here goes, the destination takes over. */
  private async postLiveMigration(ctx: RequestContext, instance: Instance, dest: string, migration: Migration, data: MigrateData): Promise<void> {
    await this.m.notifier.instanceAction(ctx, instance, 'live_migration_post', 'start', undefined, 'live_migration._post');
    if (this.m.driver.instanceExists(instance)) await this.m.driver.destroy(instance, instance.networkInfo);
    await this.rpc.postLiveMigrationAtDestination(ctx, dest, { instance, block_migration: Boolean(data['block_migration']) });
    await this.volumes.deleteOldAttachments(ctx, instance, (data['old_vol_attachment_ids'] ?? {}) as OldAttachments);
    // The source's resources were held by the migration since the conductor's swap.
    await this.m.placement?.deleteAllocationForInstance(ctx, migration.uuid);
    migration.status = MigrationStatus.COMPLETED;
    await migration.save(ctx);
    this.m.rt.abortInstanceClaim(instance);
    await this.m.notifier.instanceAction(ctx, instance, 'live_migration_post', 'end', undefined, 'live_migration._post');
  }

  /** _rollback_live_migration: the guest stays here; allocations, task and destination are put back. */
  private async rollback(ctx: RequestContext, instance: Instance, dest: string, migration: Migration, status: string): Promise<void> {
    await this.m.notifier.instanceAction(ctx, instance, 'live_migration_rollback', 'start', undefined, 'live_migration._rollback');
    await this.m.placement?.moveAllocations(ctx, migration.uuid, instance.uuid).catch((e) => this.m.log.error({ err: e }, 'could not move allocations back'));
    await this.rpc.rollbackLiveMigrationAtDestination(ctx, dest, { instance, destroy_disks: true, migrate_data: {} }).catch(() => undefined);
    const original = this.running.get(instance.uuid)?.originalBdms;
    if (original) await this.volumes.rollback(ctx, instance, original).catch((e) => this.m.log.error({ err: e }, 'could not roll back volume attachments'));
    instance.task_state = null;
    instance.power_state = this.m.driver.instanceExists(instance) ? this.m.driver.getInfo(instance).state : instance.power_state;
    await instance.save(ctx, { expected_task_state: [TaskState.MIGRATING] }).catch(() => undefined);
    migration.status = status;
    await migration.save(ctx).catch(() => undefined);
    await this.m.notifier.instanceAction(ctx, instance, 'live_migration_rollback', 'end', undefined, 'live_migration._rollback');
  }

  // ---------------------------------------------------------------- destination

  async pre_live_migration(ctx: RequestContext, a: { instance: Instance; block_migration: boolean; disk: unknown; migrate_data: MigrateData }): Promise<MigrateData> {
    let out: MigrateData = a.migrate_data;
    await this.m.actionEvent(ctx, a.instance, 'compute_pre_live_migration', async () => {
      await this.m.notifier.instanceAction(ctx, a.instance, 'live_migration_pre', 'start', undefined, 'live_migration.pre');
      // A second attachment per volume with this host's connector; the source deletes the old ones.
      out = { ...a.migrate_data, old_vol_attachment_ids: await this.volumes.preLiveMigration(ctx, a.instance) };
      await this.m.notifier.instanceAction(ctx, a.instance, 'live_migration_pre', 'end', undefined, 'live_migration.pre');
    });
    return out;
  }

  async post_live_migration_at_destination(ctx: RequestContext, a: { instance: Instance; block_migration: boolean }): Promise<void> {
    const instance = a.instance;
    await this.m.actionEvent(ctx, instance, 'compute_post_live_migration_at_destination', async () => {
      await this.m.notifier.instanceAction(ctx, instance, 'live_migration_post_dest', 'start', undefined, 'live_migration.post.dest');
      const wasPaused = instance.vm_state === VmState.PAUSED;
      const neutron = this.m.neutron;
      if (neutron) {
        for (const vif of instance.networkInfo) {
          await neutron.session.put('network', `/v2.0/ports/${vif.id}`, { ctx, body: { port: { 'binding:host_id': this.m.host } } })
            .catch((e) => this.m.log.warn({ err: e, port: vif.id }, 'could not rebind port'));
        }
      }
      await this.m.driver.spawn({
        instance, image: { id: instance.image_ref, properties: {} }, networkInfo: instance.networkInfo.map((v) => ({ ...v, active: true })),
        allocations: {}, adminPassword: null, waitForEvents: async (_e, run) => run(),
      });
      await this.volumes.attachToGuest(ctx, instance);
      if (wasPaused) await this.m.driver.pause(instance);
      const node = this.m.driver.getAvailableNodes()[0] ?? this.m.host;
      instance.host = this.m.host;
      instance.node = node;
      instance.power_state = this.m.driver.getInfo(instance).state;
      instance.vm_state = wasPaused ? VmState.PAUSED : VmState.ACTIVE;
      instance.task_state = null;
      await instance.save(ctx, { expected_task_state: TaskState.MIGRATING });
      await this.m.notifier.instanceAction(ctx, instance, 'live_migration_post_dest', 'end', undefined, 'live_migration.post.dest');
    });
  }

  async rollback_live_migration_at_destination(ctx: RequestContext, a: { instance: Instance; destroy_disks: boolean; migrate_data: MigrateData }): Promise<void> {
    await this.m.actionEvent(ctx, a.instance, 'compute_rollback_live_migration_at_destination', async () => {
      // The guest never started here; nothing but the (fake) prepared disk to clean.
      if (a.instance.host !== this.m.host && this.m.driver.instanceExists(a.instance)) await this.m.driver.destroy(a.instance, a.instance.networkInfo);
    });
  }

  // ---------------------------------------------------------------- source: force complete / abort

  async live_migration_force_complete(ctx: RequestContext, a: { instance: Instance; migration?: Migration }): Promise<void> {
    await this.m.actionEvent(ctx, a.instance, 'compute_live_migration_force_complete', async () => {
      await this.m.notifier.instanceAction(ctx, a.instance, 'live_migration_force_complete', 'start', undefined, null);
      const run = this.running.get(a.instance.uuid);
      // Pausing the guest lets the copy converge (libvirt's force complete); the fake copy just ends.
      if (run) run.forceComplete = true;
      await this.m.notifier.instanceAction(ctx, a.instance, 'live_migration_force_complete', 'end', undefined, null);
    });
  }

  async live_migration_abort(ctx: RequestContext, a: { instance: Instance; migration_id: number }): Promise<void> {
    await this.m.actionEvent(ctx, a.instance, 'compute_live_migration_abort', async () => {
      await this.m.notifier.instanceAction(ctx, a.instance, 'live_migration_abort', 'start', undefined, null);
      const run = this.running.get(a.instance.uuid);
      if (!run || run.migration.id !== a.migration_id) return;
      run.abort = true;
      if (run.queued) {
        // Dropped from the queue before it started (2.65): nothing ran, so only the control
        // plane's changes go back: the allocation swap, the task state, the migration `cancelled`.
        this.running.delete(a.instance.uuid);
        await this.rollback(ctx, a.instance, run.dest, run.migration, MigrationStatus.CANCELLED);
      }
      // `preparing` / `running`: the migration's own flow notices and rolls back (cancelled).
      await this.m.notifier.instanceAction(ctx, a.instance, 'live_migration_abort', 'end', undefined, null);
    });
  }
}

