/**
 * `_local_delete`'s volume part (nova/compute/api.py): with no compute to do it (host down,
 * instance buried in cell0), nova-api deletes the instance's attachments, deletes the volumes
 * marked delete_on_termination, and destroys the BDMs.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { getLogger } from '../../common/log.js';
import type { Instance } from '../objects/instance.js';
import type { ObjectBackend } from '../objects/base.js';
import { BlockDeviceMapping } from '../objects/block-device.js';
import type { CinderAPI } from './cinder.js';

const log = getLogger('nova-api');

export async function localDeleteVolumes(cinder: CinderAPI, ctx: RequestContext, inst: Instance, backend: ObjectBackend): Promise<void> {
  const bdms = await BlockDeviceMapping.listByInstance(backend, ctx, inst.uuid);
  for (const bdm of bdms) {
    try {
      if (bdm.isVolume && bdm.volume_id) {
        if (bdm.attachment_id) await cinder.attachmentDelete(ctx, inst.project_id, bdm.attachment_id);
        if (bdm.delete_on_termination) {
          for (let i = 0; i < 40; i++) {
            const v = await cinder.get(ctx, bdm.volume_id, inst.project_id);
            if (!v || !['in-use', 'detaching', 'attaching', 'reserved'].includes(v['status'])) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          await cinder.delete(ctx, inst.project_id, bdm.volume_id);
        }
      }
      await bdm.destroy(ctx);
    } catch (e) {
      log.warn({ err: e, instance: inst.uuid, volume_id: bdm.volume_id }, 'local delete: volume cleanup failed');
    }
  }
}
