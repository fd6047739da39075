import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../common/context.js';
import { isApiError } from '../../common/errors.js';
import { checkBootVolumes } from './boot-check.js';
import type { CinderAPI } from './cinder.js';

const volumes: Record<string, Record<string, unknown>> = {
  plain: { id: 'plain', status: 'available', multiattach: false },
  busy: { id: 'busy', status: 'in-use', multiattach: false },
  shared: { id: 'shared', status: 'in-use', multiattach: true },
};
const cinder = { get: async (_ctx: unknown, id: string) => volumes[id] ?? null } as unknown as CinderAPI;
const ctx = RequestContext.admin();
const bdm = (id: string) => [{ source_type: 'volume', destination_type: 'volume', volume_id: id, boot_index: 0 }];

async function refusal(p: Promise<void>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiError(e));
    assert.equal(e.status, 400);
    return e.message;
  }
  assert.fail('expected a 400');
}

test('boot volumes: missing, busy, multiattach by microversion', async () => {
  await checkBootVolumes(cinder, ctx, bdm('plain'), false);
  assert.match(await refusal(checkBootVolumes(cinder, ctx, bdm('gone'))), /failed to get volume gone/);
  assert.match(await refusal(checkBootVolumes(cinder, ctx, bdm('busy'), true)), /status must be 'available'/);
  assert.equal(await refusal(checkBootVolumes(cinder, ctx, bdm('shared'), false)), 'Multiattach volumes are only supported starting with compute API version 2.60.');
  // From 2.60 a multiattach volume already used by another server may be booted from.
  await checkBootVolumes(cinder, ctx, bdm('shared'), true);
});
