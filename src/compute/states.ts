/**
 * Nova's state vocabularies, byte-exact (nova/compute/vm_states.py, task_states.py,
 * power_state.py) and the API `status` derived from them (nova/api/openstack/common.py).
 * @module
 */

export const VmState = {
  ACTIVE: 'active', BUILDING: 'building', PAUSED: 'paused', SUSPENDED: 'suspended',
  STOPPED: 'stopped', RESCUED: 'rescued', RESIZED: 'resized', SOFT_DELETED: 'soft-delete',
  DELETED: 'deleted', ERROR: 'error', SHELVED: 'shelved', SHELVED_OFFLOADED: 'shelved_offloaded',
} as const;
export type VmState = (typeof VmState)[keyof typeof VmState];

export const TaskState = {
  SCHEDULING: 'scheduling', BLOCK_DEVICE_MAPPING: 'block_device_mapping', NETWORKING: 'networking',
  SPAWNING: 'spawning', IMAGE_SNAPSHOT: 'image_snapshot', IMAGE_SNAPSHOT_PENDING: 'image_snapshot_pending',
  IMAGE_PENDING_UPLOAD: 'image_pending_upload', IMAGE_UPLOADING: 'image_uploading', IMAGE_BACKUP: 'image_backup',
  UPDATING_PASSWORD: 'updating_password', RESIZE_PREP: 'resize_prep', RESIZE_MIGRATING: 'resize_migrating',
  RESIZE_MIGRATED: 'resize_migrated', RESIZE_FINISH: 'resize_finish', RESIZE_REVERTING: 'resize_reverting',
  RESIZE_CONFIRMING: 'resize_confirming', REBOOTING: 'rebooting', REBOOT_PENDING: 'reboot_pending',
  REBOOT_STARTED: 'reboot_started', REBOOTING_HARD: 'rebooting_hard', REBOOT_PENDING_HARD: 'reboot_pending_hard',
  REBOOT_STARTED_HARD: 'reboot_started_hard', PAUSING: 'pausing', UNPAUSING: 'unpausing',
  SUSPENDING: 'suspending', RESUMING: 'resuming', POWERING_OFF: 'powering-off', POWERING_ON: 'powering-on',
  RESCUING: 'rescuing', UNRESCUING: 'unrescuing', REBUILDING: 'rebuilding',
  REBUILD_BLOCK_DEVICE_MAPPING: 'rebuild_block_device_mapping', REBUILD_SPAWNING: 'rebuild_spawning',
  MIGRATING: 'migrating', DELETING: 'deleting', SOFT_DELETING: 'soft-deleting', RESTORING: 'restoring',
  SHELVING: 'shelving', SHELVING_IMAGE_PENDING_UPLOAD: 'shelving_image_pending_upload',
  SHELVING_IMAGE_UPLOADING: 'shelving_image_uploading', SHELVING_OFFLOADING: 'shelving_offloading',
  UNSHELVING: 'unshelving',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** The integer is an index into a list, so the gaps (2, 5) are kept. */
export const PowerState = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

const POWER_STATE_NAMES: Record<number, string> = {
  0: 'pending', 1: 'running', 3: 'paused', 4: 'shutdown', 6: 'crashed', 7: 'suspended',
};
export function powerStateName(p: number): string {
  return POWER_STATE_NAMES[p] ?? 'pending';
}

/** vm_state -> { task_state -> status }; the `default` key applies when no task matches. */
const STATE_MAP: Record<string, Record<string, string>> = {
  active: {
    default: 'ACTIVE',
    rebooting: 'REBOOT', reboot_pending: 'REBOOT', reboot_started: 'REBOOT',
    rebooting_hard: 'HARD_REBOOT', reboot_pending_hard: 'HARD_REBOOT', reboot_started_hard: 'HARD_REBOOT',
    updating_password: 'PASSWORD',
    rebuilding: 'REBUILD', rebuild_block_device_mapping: 'REBUILD', rebuild_spawning: 'REBUILD',
    migrating: 'MIGRATING',
    resize_prep: 'RESIZE', resize_migrating: 'RESIZE', resize_migrated: 'RESIZE', resize_finish: 'RESIZE',
  },
  building: { default: 'BUILD' },
  stopped: {
    default: 'SHUTOFF',
    resize_prep: 'RESIZE', resize_migrating: 'RESIZE', resize_migrated: 'RESIZE', resize_finish: 'RESIZE',
    rebuilding: 'REBUILD', rebuild_block_device_mapping: 'REBUILD', rebuild_spawning: 'REBUILD',
  },
  resized: { default: 'VERIFY_RESIZE', resize_reverting: 'REVERT_RESIZE' },
  paused: { default: 'PAUSED', migrating: 'MIGRATING' },
  suspended: { default: 'SUSPENDED' },
  rescued: { default: 'RESCUE' },
  error: {
    default: 'ERROR',
    rebuilding: 'REBUILD', rebuild_block_device_mapping: 'REBUILD', rebuild_spawning: 'REBUILD',
  },
  deleted: { default: 'DELETED' },
  'soft-delete': { default: 'SOFT_DELETED' },
  shelved: { default: 'SHELVED' },
  shelved_offloaded: { default: 'SHELVED_OFFLOADED' },
};

/** `status` shown by the API for a (vm_state, task_state) pair. */
export function statusFromState(vmState: string, taskState: string | null): string {
  const m = STATE_MAP[vmState];
  if (!m) return 'UNKNOWN';
  return (taskState && m[taskState]) || m['default']!;
}

/** Inverse mapping for `GET /servers?status=X`: the vm_states (and task_states) a status stands for. */
export function statesFromStatus(status: string): { vmStates: string[]; taskStates: string[] | null } {
  const vmStates: string[] = [];
  const taskStates = new Set<string>();
  let anyDefault = false;
  for (const [vm, m] of Object.entries(STATE_MAP)) {
    for (const [task, st] of Object.entries(m)) {
      if (st !== status) continue;
      if (!vmStates.includes(vm)) vmStates.push(vm);
      if (task === 'default') anyDefault = true;
      else taskStates.add(task);
    }
  }
  return { vmStates, taskStates: anyDefault ? null : [...taskStates] };
}

/** Statuses for which `progress` is shown (0.4). */
export const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);
