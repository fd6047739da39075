/**
 * The volume driver interface (`cinder/volume/driver.py` BaseVD, trimmed to what the manager uses).
 * A driver owns the bytes; the manager owns statuses and the database.
 * @module
 */
import type { Readable } from 'node:stream';

export interface VolumeRef {
  id: string;
  size: number;
}

export interface SnapshotRef {
  id: string;
  volume_id: string;
  volume_size: number;
}

export interface ConnectionInfo {
  driver_volume_type: string;
  data: Record<string, unknown>;
}

export interface BackendStats {
  volume_backend_name: string;
  vendor_name: string;
  driver_version: string;
  storage_protocol: string;
  total_capacity_gb: number;
  free_capacity_gb: number;
  allocated_capacity_gb: number;
  reserved_percentage: number;
  thin_provisioning_support: boolean;
  /** The backend can attach a volume to several hosts at once (matched by `multiattach` extra specs). */
  multiattach: boolean;
}

export interface VolumeDriver {
  readonly backendName: string;
  setup(): Promise<void>;
  stats(allocatedGb: number): Promise<BackendStats>;
  createVolume(vol: VolumeRef): Promise<void>;
  createCloned(vol: VolumeRef, src: VolumeRef): Promise<void>;
  createFromSnapshot(vol: VolumeRef, snap: SnapshotRef): Promise<void>;
  /** Writes the image bytes at the start of the volume, then sizes it to `vol.size` GiB. */
  copyImageToVolume(vol: VolumeRef, data: Readable): Promise<void>;
  /** A stream of the volume's bytes and their count, for upload to Glance. */
  openForRead(vol: VolumeRef): Promise<{ stream: Readable; size: number }>;
  deleteVolume(vol: VolumeRef): Promise<void>;
  /** Puts the snapshot's bytes back into its volume. */
  revertToSnapshot(vol: VolumeRef, snap: SnapshotRef): Promise<void>;
  createSnapshot(snap: SnapshotRef): Promise<void>;
  deleteSnapshot(snap: SnapshotRef): Promise<void>;
  extendVolume(vol: VolumeRef, newSize: number): Promise<void>;
  initializeConnection(vol: VolumeRef, connector: Record<string, unknown> | null, readonly: boolean): Promise<ConnectionInfo>;
  terminateConnection(vol: VolumeRef, connector: Record<string, unknown> | null): Promise<void>;
}
