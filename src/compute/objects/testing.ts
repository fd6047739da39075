/** Test fixtures for Nova objects. */
import type { CellDbBackend } from './backend.js';
import { Flavor } from './flavor.js';
import { Instance } from './instance.js';

/** An instance being scheduled, of flavor m1.tiny, on `backend`; not created yet. */
export function schedulingInstance(backend: CellDbBackend, uuid: string): Instance {
  const i = new Instance();
  i.backend = backend;
  i.update({ uuid, project_id: 'p', user_id: 'u', vm_state: 'building', task_state: 'scheduling', power_state: 0, display_name: 'vm', locked: false });
  i.flavor = new Flavor().update({ id: 1, name: 'm1.tiny', memory_mb: 512, vcpus: 1, root_gb: 1, flavorid: '1' });
  return i;
}
