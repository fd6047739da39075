/**
 * nova-api's `_validate_bdm` for volumes named in a boot request: each `source_type=volume`
 * volume must exist (400 InvalidBDMVolume) and be `available` (400 InvalidVolume) before the
 * request is scheduled; a multiattach volume needs 2.60. The reservation itself is made by the
 * compute in `_prep_block_device`.
 * @module
 */
import type { RequestContext } from '../../common/context.js';
import { badRequest } from '../../common/errors.js';
import type { CinderAPI } from './cinder.js';

export async function checkBootVolumes(cinder: CinderAPI, ctx: RequestContext, bdms: Record<string, unknown>[], supportsMultiattach?: boolean): Promise<void> {
  // _check_requested_volume_type (2.67): the type must exist; the BDM keeps its name.
  let types: { id: string; name: string }[] | null = null;
  for (const b of bdms) {
    const wanted = b['volume_type'];
    if (!wanted) continue;
    types ??= await cinder.volumeTypes(ctx);
    const t = types.find((x) => x.id === wanted || x.name === wanted);
    if (!t) throw badRequest(`Volume type ${String(wanted)} could not be found.`, { type: 'VolumeTypeNotFound' });
    b['volume_type'] = t.name;
  }
  for (const b of bdms) {
    if (b['source_type'] !== 'volume' || !b['volume_id']) continue;
    const id = String(b['volume_id']);
    const v = await cinder.get(ctx, id).catch(() => null);
    if (!v) throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${id}.`, { type: 'InvalidBDMVolume' });
    // check_attach_and_reserve_volume: multiattach volumes need 2.60 (when the caller says which
    // microversion it speaks); such a volume may already be in use by other servers.
    if (v['multiattach'] && supportsMultiattach === false) {
      throw badRequest('Multiattach volumes are only supported starting with compute API version 2.60.', { type: 'MultiattachNotSupportedOldMicroversion' });
    }
    const usable = v['multiattach'] && supportsMultiattach ? ['available', 'in-use'] : ['available'];
    if (!usable.includes(String(v['status']))) {
      throw badRequest(`Invalid volume: volume '${id}' status must be 'available'. Currently in '${v['status']}'`, { type: 'InvalidVolume' });
    }
  }
}
