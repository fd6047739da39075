/** Small helpers of this folder's whole-cloud tests: microversion headers, volumes, polling. */
import assert from 'node:assert/strict';
import type { Client } from '../helpers.js';

export const at = (v: string): Record<string, string> => ({ 'OpenStack-API-Version': `compute ${v}`, 'X-OpenStack-Nova-API-Version': v });

export async function volume(c: Client, id: string): Promise<any> {
  const r = await c.call('GET', 'volumev3', `/volumes/${id}`);
  return r.status === 404 ? null : r.body.volume;
}

export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

export async function waitVolume(c: Client, id: string, status: string | null): Promise<any> {
  return until(`volume ${id} ${status}`, async () => {
    const v = await volume(c, id);
    if (status === null) return v === null ? {} : null;
    if (v && (v.status === 'error' || v.status === 'error_deleting')) assert.fail(`volume ${id} went to ${v.status}`);
    return v && v.status === status ? v : null;
  });
}

export async function createVolume(c: Client, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await c.call('POST', 'volumev3', '/volumes', { volume: { size: 1, name, ...extra } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await waitVolume(c, r.body.volume.id, 'available');
  return r.body.volume.id;
}

/** A multiattach volume, made as Cinder makes them: through a type with multiattach="<is> True". */
export async function createMultiattachVolume(admin: Client, c: Client, name: string): Promise<string> {
  const typeName = `multiattach-${Math.random().toString(36).slice(2, 8)}`;
  const t = await admin.call('POST', 'volumev3', '/types', { volume_type: { name: typeName, extra_specs: { multiattach: '<is> True' } } });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  const id = await createVolume(c, name, { volume_type: typeName });
  assert.equal((await volume(c, id)).multiattach, true);
  return id;
}

/** The instance action of `action` once its compute event finished (newest first). */
export async function finishedAction(c: Client, serverId: string, action: string, headers: Record<string, string> = {}): Promise<any> {
  return until(`${action} action of ${serverId}`, async () => {
    const acts = (await c.call('GET', 'compute', `/servers/${serverId}/os-instance-actions`, undefined, headers)).body.instanceActions;
    const a = acts.find((x: any) => x.action === action);
    if (!a) return null;
    const r = await c.call('GET', 'compute', `/servers/${serverId}/os-instance-actions/${a.request_id}`, undefined, headers);
    const ev = r.body.instanceAction;
    return ev.events?.length && ev.events.every((e: any) => e.finish_time) ? r : null;
  });
}
