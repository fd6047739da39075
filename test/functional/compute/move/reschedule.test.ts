/**
 * A prep_resize that fails on the chosen destination is rescheduled by the cell conductor to
 * the next alternate of the original scheduling (three hosts: source excluded, two candidates);
 * with every alternate failing the move is rolled back (MaxRetriesExceeded): the server stays
 * where it was, with its old flavor and its allocation, and the migration is `error`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectPrepResizeFailure } from '../../../../src/compute/manager/resize.js';
import { bootArgs, login, waitForStatus, withCloud } from '../helpers.js';

const PLACEMENT = { 'OpenStack-API-Version': 'placement 1.28' };

test('prep_resize failure reschedules to the alternate; all failing rolls back', async () => {
  await withCloud(3, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const r = await demo.call('POST', 'compute', '/servers', { server: { name: 'rs', imageRef, flavorRef: '1', networks: [{ uuid: networkId }] } });
    assert.equal(r.status, 202);
    const id = r.body.server.id;
    await waitForStatus(demo, id, 'ACTIVE');
    const hostOf = async () => (await admin.call('GET', 'compute', `/servers/${id}`)).body.server['OS-EXT-SRV-ATTR:host'];
    const source = await hostOf();
    const migrations = async () => (await admin.call('GET', 'compute', `/os-migrations?instance_uuid=${id}`)).body.migrations;

    // Where does the scheduler send it first? Resize, look, revert.
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } })).status, 202);
    await waitForStatus(demo, id, 'VERIFY_RESIZE');
    const firstChoice = await hostOf();
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { revertResize: null })).status, 202);
    await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(await hostOf(), source);
    const third = cloud.computeHosts.find((h) => h !== source && h !== firstChoice)!;

    // The first choice fails prep_resize: the alternate takes it.
    injectPrepResizeFailure(firstChoice, 1);
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '2' } })).status, 202);
    await waitForStatus(demo, id, 'VERIFY_RESIZE');
    assert.equal(await hostOf(), third);
    const migs = await migrations();
    assert.equal(migs.length, 2, 'the reschedule reused the migration record');
    assert.equal(migs[0].status, 'finished');
    assert.equal(migs[0].dest_compute, third);
    const rp = async (name: string) => (await admin.call('GET', 'placement', `/resource_providers?name=${name}`, undefined, PLACEMENT)).body.resource_providers[0].uuid;
    const allocs = (await admin.call('GET', 'placement', `/allocations/${id}`, undefined, PLACEMENT)).body.allocations;
    assert.deepEqual(Object.keys(allocs), [await rp(third)]);
    const failedUsage = (await admin.call('GET', 'placement', `/resource_providers/${await rp(firstChoice)}/usages`, undefined, PLACEMENT)).body.usages;
    assert.equal(failedUsage.MEMORY_MB, 0);
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { confirmResize: null })).status, 204);
    await waitForStatus(demo, id, 'ACTIVE');

    // Every candidate fails: rolled back where it was.
    for (const h of cloud.computeHosts) if (h !== third) injectPrepResizeFailure(h, 1);
    assert.equal((await demo.call('POST', 'compute', `/servers/${id}/action`, { resize: { flavorRef: '3' } })).status, 202);
    const back = await waitForStatus(demo, id, 'ACTIVE');
    assert.equal(await hostOf(), third);
    assert.equal(back.flavor.original_name ?? back.flavor.id, back.flavor.original_name ? 'm1.small' : '2');
    assert.equal((await migrations())[0].status, 'error');
    const after = (await admin.call('GET', 'placement', `/allocations/${id}`, undefined, PLACEMENT)).body.allocations;
    assert.deepEqual(Object.keys(after), [await rp(third)]);
    assert.equal(after[await rp(third)].resources.MEMORY_MB, 2048);
    for (const h of cloud.computeHosts) injectPrepResizeFailure(h, 0);
  });
});
