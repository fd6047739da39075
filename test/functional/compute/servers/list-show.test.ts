/**
 * Servers from 2.66 to 2.90 on a two-host cloud: changes-before (2.66), volume_type in
 * block_device_mapping_v2 (2.67), server_groups (2.71), locked_reason and the locked
 * filter/sort (2.73), a requested host/node at create (2.74), full PUT answers and strict query
 * parameters (2.75), non-admin filters (2.83), hostname (2.90), and minimal records of servers
 * whose cell does not answer (2.69). Answers are checked against Tempest's response schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Sqlite from 'better-sqlite3';
import { raiseMicroversionCeilingForTests } from '../../../../src/compute/api/common.js';
import { bootArgs, login, waitForStatus, withCloud, type Client } from '../helpers.js';
import { assertTempest } from './tempest-schemas.js';

raiseMicroversionCeilingForTests('2.92');
const at = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
const ids = (r: { body: any }) => r.body.servers.map((x: any) => x.id).sort();

async function boot(c: Client, v: string, server: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  return c.call('POST', 'compute', '/servers', { server: { flavorRef: '1', ...server }, ...extra }, at(v));
}

test('servers 2.66 to 2.90', async () => {
  await withCloud(2, async (cloud) => {
    const demo = await login(cloud, 'demo');
    const admin = await login(cloud, 'admin');
    const { imageRef, networkId } = await bootArgs(demo);
    const networks = [{ uuid: networkId }];

    // ---- 2.74: host / hypervisor_hostname at create (admin only, validated, filters still run) ----
    let r = await boot(admin, '2.73', { name: 'h', imageRef, networks, host: 'compute2' });
    assert.equal(r.status, 400, 'host needs 2.74');
    r = await boot(demo, '2.74', { name: 'h', imageRef, networks, host: 'compute2' });
    assert.equal(r.status, 403, 'requested destination is admin-only');
    r = await boot(admin, '2.74', { name: 'h', imageRef, networks, host: 'nohost' });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Compute host nohost could not be found.');
    r = await boot(admin, '2.74', { name: 'h', imageRef, networks, hypervisor_hostname: 'nonode' });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Compute host nonode could not be found.');
    r = await boot(admin, '2.74', { name: 'h', imageRef, networks, host: 'compute2', availability_zone: 'nova:compute1' });
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /mutually exclusive/);
    const onHost: string[] = [];
    for (const name of ['h1', 'h2']) {
      r = await boot(admin, '2.74', { name, imageRef, networks, host: 'compute2' });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      onHost.push(r.body.server.id);
    }
    let s = await waitForStatus(admin, onHost[0]!, 'ACTIVE');
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute2');
    const node2 = s['OS-EXT-SRV-ATTR:hypervisor_hostname'];
    assert.equal((await waitForStatus(admin, onHost[1]!, 'ACTIVE'))['OS-EXT-SRV-ATTR:host'], 'compute2');
    r = await boot(admin, '2.74', { name: 'h3', imageRef, networks, hypervisor_hostname: node2 });
    assert.equal(r.status, 202);
    onHost.push(r.body.server.id);
    assert.equal((await waitForStatus(admin, r.body.server.id, 'ACTIVE'))['OS-EXT-SRV-ATTR:host'], 'compute2');
    // The scheduler still checks the host: one that cannot fit the flavor fails the boot (NoValidHost).
    assert.equal((await admin.call('POST', 'compute', '/flavors', { flavor: { name: 'huge', ram: 64, vcpus: 1, disk: 5000, id: 'huge' } })).status, 200);
    r = await boot(admin, '2.74', { name: 'big', imageRef, networks, host: 'compute1', flavorRef: 'huge' });
    assert.equal(r.status, 202);
    onHost.push(r.body.server.id);
    s = await waitForStatus(admin, r.body.server.id, 'ERROR');
    assert.match(s.fault.message, /No valid host/);

    // ---- 2.90: hostname at create / update / rebuild, visible to non-admins ----
    r = await boot(demo, '2.89', { name: 'hn', imageRef, networks, hostname: 'my-host' });
    assert.equal(r.status, 400, 'hostname needs 2.90');
    r = await boot(demo, '2.90', { name: 'hn', imageRef, networks, hostname: 'bad_name' });
    assert.equal(r.status, 400);
    r = await boot(demo, '2.90', { name: 'hn', imageRef, networks, hostname: 'my-host', min_count: 2 });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Unable to allocate a single hostname to multiple instances');
    r = await boot(demo, '2.90', { name: 'Hn Server', imageRef, networks, hostname: 'my-host' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const hn = r.body.server.id;
    await waitForStatus(demo, hn, 'ACTIVE');
    r = await demo.call('GET', 'compute', `/servers/${hn}`, undefined, at('2.90'));
    assertTempest('get_server', '2.90', r);
    assert.equal(r.body.server['OS-EXT-SRV-ATTR:hostname'], 'my-host');
    assert.ok(!('OS-EXT-SRV-ATTR:hostname' in (await demo.call('GET', 'compute', `/servers/${hn}`, undefined, at('2.89'))).body.server));
    assert.equal((await demo.call('PUT', 'compute', `/servers/${hn}`, { server: { hostname: 'renamed' } }, at('2.89'))).status, 400);
    r = await demo.call('PUT', 'compute', `/servers/${hn}`, { server: { hostname: 'renamed' } }, at('2.90'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assertTempest('update_server', '2.90', r);
    assert.equal(r.body.server['OS-EXT-SRV-ATTR:hostname'], 'renamed');
    r = await demo.call('GET', 'compute', '/servers?hostname=^renamed$', undefined, at('2.90'));
    assert.deepEqual(ids(r), [hn]);
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?hostname=^nomatch$', undefined, at('2.90'))), []);
    r = await demo.call('GET', 'compute', '/servers?hostname=^nomatch$', undefined, at('2.89'));
    assert.deepEqual(ids(r), [hn], 'a non-admin hostname filter is ignored before 2.90');
    r = await demo.call('POST', 'compute', `/servers/${hn}/action`, { rebuild: { imageRef, hostname: 'rebuilt' } }, at('2.90'));
    assert.equal(r.status, 202);
    assertTempest('rebuild_server_with_admin_pass', '2.90', r);
    assert.equal(r.body.server['OS-EXT-SRV-ATTR:hostname'], 'rebuilt');
    await waitForStatus(demo, hn, 'ACTIVE');

    // ---- 2.71: server_groups in show / update / rebuild (not in detail) ----
    r = await demo.call('POST', 'compute', '/os-server-groups', { server_group: { name: 'g', policies: ['affinity'] } });
    assert.equal(r.status, 200);
    const gid = r.body.server_group.id;
    r = await boot(demo, '2.71', { name: 'grouped', imageRef, networks }, { 'os:scheduler_hints': { group: gid } });
    assert.equal(r.status, 202);
    const gsv = r.body.server.id;
    await waitForStatus(demo, gsv, 'ACTIVE');
    r = await demo.call('GET', 'compute', `/servers/${gsv}`, undefined, at('2.71'));
    assertTempest('get_server', '2.71', r);
    assert.deepEqual(r.body.server.server_groups, [gid]);
    assert.ok(!('server_groups' in (await demo.call('GET', 'compute', `/servers/${gsv}`, undefined, at('2.70'))).body.server));
    assert.deepEqual((await demo.call('GET', 'compute', `/servers/${hn}`, undefined, at('2.71'))).body.server.server_groups, []);
    r = await demo.call('PUT', 'compute', `/servers/${gsv}`, { server: { name: 'grouped2' } }, at('2.71'));
    assertTempest('update_server', '2.71', r);
    assert.deepEqual(r.body.server.server_groups, [gid]);
    r = await demo.call('GET', 'compute', '/servers/detail', undefined, at('2.71'));
    assertTempest('list_servers_detail', '2.71', r);
    assert.ok(r.body.servers.every((x: any) => !('server_groups' in x)));

    // ---- 2.73: lock with a reason, locked_reason, locked as filter and sort key ----
    assert.equal((await demo.call('POST', 'compute', `/servers/${gsv}/action`, { lock: { locked_reason: 'x', other: 1 } }, at('2.73'))).status, 400);
    assert.equal((await demo.call('POST', 'compute', `/servers/${gsv}/action`, { lock: { locked_reason: '' } }, at('2.73'))).status, 400);
    assert.equal((await demo.call('POST', 'compute', `/servers/${gsv}/action`, { lock: { locked_reason: 'maintenance' } }, at('2.73'))).status, 202);
    r = await demo.call('GET', 'compute', `/servers/${gsv}`, undefined, at('2.73'));
    assertTempest('get_server', '2.73', r);
    assert.equal(r.body.server.locked, true);
    assert.equal(r.body.server.locked_reason, 'maintenance');
    r = await demo.call('GET', 'compute', '/servers/detail', undefined, at('2.73'));
    assertTempest('list_servers_detail', '2.73', r);
    assert.equal(r.body.servers.find((x: any) => x.id === hn).locked_reason, null);
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?locked=true', undefined, at('2.73'))), [gsv]);
    assert.ok(!ids(await demo.call('GET', 'compute', '/servers?locked=false', undefined, at('2.73'))).includes(gsv));
    assert.ok(ids(await demo.call('GET', 'compute', '/servers?locked=true', undefined, at('2.72'))).length > 1, 'locked filter is ignored before 2.73');
    assert.equal((await demo.call('GET', 'compute', '/servers?locked=maybe', undefined, at('2.73'))).status, 400);
    r = await demo.call('GET', 'compute', '/servers?sort_key=locked&sort_dir=desc', undefined, at('2.73'));
    assert.equal(r.status, 200);
    assert.equal(r.body.servers[0].id, gsv, 'locked servers first when sorting by locked desc');
    r = await demo.call('PUT', 'compute', `/servers/${gsv}`, { server: { name: 'grouped3' } }, at('2.73'));
    assertTempest('update_server', '2.73', r);
    assert.equal(r.body.server.locked_reason, 'maintenance');
    assert.equal((await demo.call('POST', 'compute', `/servers/${gsv}/action`, { unlock: null }, at('2.73'))).status, 202);
    assert.equal((await demo.call('GET', 'compute', `/servers/${gsv}`, undefined, at('2.73'))).body.server.locked_reason, null);

    // ---- 2.75: PUT and rebuild answer the whole GET document; unknown query parameters 400 ----
    r = await demo.call('PUT', 'compute', `/servers/${gsv}`, { server: { name: 'full' } }, at('2.74'));
    assert.ok(!('OS-EXT-STS:vm_state' in r.body.server), 'reduced document before 2.75');
    r = await demo.call('PUT', 'compute', `/servers/${gsv}`, { server: { name: 'full' } }, at('2.75'));
    assertTempest('update_server', '2.75', r);
    for (const k of ['OS-EXT-STS:vm_state', 'OS-EXT-AZ:availability_zone', 'config_drive', 'key_name', 'security_groups', 'OS-SRV-USG:launched_at', 'os-extended-volumes:volumes_attached']) {
      assert.ok(k in r.body.server, `PUT 2.75 answers ${k}`);
    }
    r = await demo.call('POST', 'compute', `/servers/${gsv}/action`, { rebuild: { imageRef } }, at('2.75'));
    assert.equal(r.status, 202);
    assertTempest('rebuild_server_with_admin_pass', '2.75', r);
    assert.ok('OS-EXT-STS:vm_state' in r.body.server && 'security_groups' in r.body.server);
    await waitForStatus(demo, gsv, 'ACTIVE');
    assert.equal((await demo.call('GET', 'compute', '/servers?foo=1', undefined, at('2.74'))).status, 200);
    r = await demo.call('GET', 'compute', '/servers?foo=1', undefined, at('2.75'));
    assert.equal(r.status, 400);
    assert.match(r.body.badRequest.message, /Additional properties are not allowed \('foo' was unexpected\)/);
    assert.equal((await demo.call('GET', 'compute', '/servers/detail?sort_key=id', undefined, at('2.74'))).status, 200, 'ignored sort key');
    assert.equal((await demo.call('GET', 'compute', '/servers/detail?sort_key=id', undefined, at('2.75'))).status, 400);
    r = await admin.call('GET', 'compute', '/servers?metadata=x', undefined, at('2.74'));
    assert.equal(r.status, 400, 'joined-table filter');
    assert.equal(r.body.badRequest.message, 'Invalid filter field: metadata.');
    assert.equal((await demo.call('GET', 'compute', '/servers?metadata=x', undefined, at('2.75'))).status, 200, 'a non-admin\'s is dropped');
    assert.equal((await demo.call('GET', 'compute', '/servers?sort_key=host', undefined, at('2.75'))).status, 403, 'host sort is admin-only');

    // ---- 2.66: changes-before ----
    const before = new Date(Date.now() + 1000).toISOString();
    const past = '2000-01-01T00:00:00Z';
    assert.ok(ids(await demo.call('GET', 'compute', `/servers?changes-before=${before}`, undefined, at('2.66'))).includes(hn));
    assert.deepEqual(ids(await demo.call('GET', 'compute', `/servers?changes-before=${past}`, undefined, at('2.66'))), []);
    assert.ok(ids(await demo.call('GET', 'compute', `/servers?changes-before=${past}`, undefined, at('2.65'))).length > 0, 'ignored before 2.66');
    r = await demo.call('GET', 'compute', `/servers?changes-since=${before}&changes-before=${past}`, undefined, at('2.66'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'The value of changes-since must be less than or equal to changes-before.');
    r = await demo.call('GET', 'compute', '/servers?changes-before=yesterday', undefined, at('2.66'));
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, "Invalid input for query parameters changes-before. Value: yesterday. 'yesterday' is not a 'date-time'");

    // ---- 2.83: more filters for non-admins ----
    assert.equal((await demo.call('POST', 'compute', '/os-keypairs', { keypair: { name: 'kf' } })).status, 200);
    r = await boot(demo, '2.83', { name: 'keyed', imageRef, networks, key_name: 'kf', config_drive: true });
    assert.equal(r.status, 202);
    const keyed = r.body.server.id;
    await waitForStatus(demo, keyed, 'ACTIVE');
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?key_name=kf', undefined, at('2.83'))), [keyed]);
    assert.ok(ids(await demo.call('GET', 'compute', '/servers?key_name=kf', undefined, at('2.82'))).length > 1, 'key_name filter ignored for non-admins before 2.83');
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?config_drive=True', undefined, at('2.83'))), [keyed]);
    const mine = ids(await demo.call('GET', 'compute', '/servers', undefined, at('2.83')));
    const userId = (await demo.call('GET', 'compute', `/servers/${keyed}`)).body.server.user_id;
    assert.deepEqual(ids(await demo.call('GET', 'compute', `/servers?user_id=${userId}`, undefined, at('2.83'))), mine);
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?user_id=someone-else', undefined, at('2.83'))), []);
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?vm_state=active&power_state=1&task_state=', undefined, at('2.83'))), mine);
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?availability_zone=elsewhere', undefined, at('2.83'))), []);
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?progress=0&launched_at=20&created_at=20', undefined, at('2.83'))), mine);

    // ---- 2.67: volume_type in block_device_mapping_v2 ----
    const types = (await admin.call('GET', 'volumev3', '/types')).body.volume_types;
    assert.ok(types.length > 0);
    const vt = types[0].name;
    const bdm = (extra: Record<string, unknown>) => [{ source_type: 'image', uuid: imageRef, destination_type: 'volume', volume_size: 1, boot_index: 0, delete_on_termination: true, ...extra }];
    r = await boot(demo, '2.66', { name: 'vt', networks, block_device_mapping_v2: bdm({ volume_type: vt }) });
    assert.equal(r.status, 400, 'volume_type needs 2.67');
    r = await boot(demo, '2.67', { name: 'vt', networks, imageRef, block_device_mapping_v2: [{ source_type: 'blank', destination_type: 'local', volume_type: vt, boot_index: -1, volume_size: 1 }] });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Block Device Mapping is Invalid: Specifying a volume_type with destination_type=local is not supported.');
    r = await boot(demo, '2.67', { name: 'vt', networks, block_device_mapping_v2: [{ source_type: 'volume', uuid: '11111111-2222-3333-4444-555555555555', destination_type: 'volume', volume_type: vt, boot_index: 0 }] });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Block Device Mapping is Invalid: Specifying volume type to existing volume is not supported.');
    r = await boot(demo, '2.67', { name: 'vt', networks, block_device_mapping_v2: bdm({ volume_type: 'no-such-type' }) });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Volume type no-such-type could not be found.');
    // A type named by id is kept by name (_check_requested_volume_type).
    r = await boot(demo, '2.67', { name: 'vt', networks, block_device_mapping_v2: bdm({ volume_type: types[0].id }) });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const bfv = r.body.server.id;
    s = await waitForStatus(demo, bfv, 'ACTIVE');
    const volId = s['os-extended-volumes:volumes_attached'][0].id;
    assert.equal((await demo.call('GET', 'volumev3', `/volumes/${volId}`)).body.volume.volume_type, vt, 'Nova created the boot volume with the requested type');

    // ---- every microversion from 2.47 to 2.92: show, detail and PUT validate against Tempest ----
    for (let minor = 47; minor <= 92; minor++) {
      const v = `2.${minor}`;
      for (const c of [demo, admin]) {
        assertTempest('get_server', v, await c.call('GET', 'compute', `/servers/${gsv}`, undefined, at(v)));
        assertTempest('list_servers', v, await c.call('GET', 'compute', '/servers', undefined, at(v)));
      }
      assertTempest('list_servers_detail', v, await demo.call('GET', 'compute', '/servers/detail', undefined, at(v)));
      assertTempest('list_servers_detail', v, await admin.call('GET', 'compute', '/servers/detail?all_tenants=1', undefined, at(v)));
      assertTempest('update_server', v, await demo.call('PUT', 'compute', `/servers/${gsv}`, { server: { name: 'full' } }, at(v)));
    }

    // ---- 2.72 needs nothing: Stratus's Neutron has no QoS, so no port carries a resource_request ----
    const ports = (await demo.call('GET', 'network', `/v2.0/ports?device_id=${gsv}`)).body.ports;
    assert.equal(ports.length, 1);
    assert.ok(!('resource_request' in ports[0]));

    // ---- 2.69: minimal records of servers whose cell does not answer ----
    const everything = ids(await demo.call('GET', 'compute', '/servers', undefined, at('2.69')));
    const cellDb = new Sqlite(cloud.state.file('nova_cell1.db'));
    cellDb.exec('ALTER TABLE instances RENAME TO instances_unreachable');
    try {
      r = await demo.call('GET', 'compute', '/servers', undefined, at('2.69'));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(ids(r), everything);
      assert.ok(r.body.servers.every((x: any) => x.status === 'UNKNOWN' && !('name' in x) && x.links.length === 2));
      r = await demo.call('GET', 'compute', '/servers/detail', undefined, at('2.69'));
      assert.deepEqual(ids(r), everything);
      const one = r.body.servers.find((x: any) => x.id === gsv);
      assert.deepEqual(Object.keys(one).sort(), ['created', 'id', 'links', 'status', 'tenant_id']);
      assert.equal(one.status, 'UNKNOWN');
      r = await demo.call('GET', 'compute', `/servers/${gsv}`, undefined, at('2.71'));
      assert.equal(r.status, 200);
      const m = r.body.server;
      assert.equal(m.status, 'UNKNOWN');
      assert.equal(m.image.id, imageRef);
      assert.equal(m.flavor.original_name, 'm1.tiny');
      assert.equal(m['OS-EXT-AZ:availability_zone'], 'UNKNOWN');
      assert.equal(m['OS-EXT-STS:power_state'], 0);
      assert.ok(m.user_id && m.user_id !== 'UNKNOWN');
      assert.deepEqual(m.server_groups, [gid]);
      assert.ok(!('name' in m) && !('addresses' in m));
      // Filtering or paging cannot be answered for a down cell: its servers are left out.
      assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?name=grouped', undefined, at('2.69'))), []);
      assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers?limit=5', undefined, at('2.69'))), []);
      assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers', undefined, at('2.68'))), [], 'skipped before 2.69');
      r = await demo.call('GET', 'compute', `/servers/${gsv}`, undefined, at('2.68'));
      assert.equal(r.status, 500, 'before 2.69 nova cannot show it');
      assert.match(r.body.computeFault.message, /^Unexpected API Error/);
    } finally {
      cellDb.exec('ALTER TABLE instances_unreachable RENAME TO instances');
      cellDb.close();
    }
    assert.deepEqual(ids(await demo.call('GET', 'compute', '/servers', undefined, at('2.69'))), everything);

    for (const id of [...onHost]) await admin.call('DELETE', 'compute', `/servers/${id}`);
    for (const id of [hn, gsv, keyed, bfv]) await demo.call('DELETE', 'compute', `/servers/${id}`);
  });
});
