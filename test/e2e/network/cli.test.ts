/**
 * Debian's `openstack` CLI against Stratus Neutron behind Stratus Keystone: the issue's
 * done-when commands (network, subnet v4/v6, port, security group and rule, router gateway /
 * subnet / port / route, floating IP create/set/unset/delete, network agent list) and errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startNetworkCloud, type NetworkCloud } from './cloud.js';

const run = promisify(execFile);
const CLI = '/usr/bin/openstack';
const skip = !existsSync(CLI) ? 'openstack CLI not installed' : false;
let c: NetworkCloud;

const env = (user = 'admin'): NodeJS.ProcessEnv => ({
  PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', LANG: 'C.UTF-8', OS_IDENTITY_API_VERSION: '3', OS_INTERFACE: 'public',
  OS_AUTH_URL: c.authUrl, OS_USERNAME: user, OS_PASSWORD: user === 'admin' ? c.adminPassword : c.demoPassword, OS_PROJECT_NAME: user,
  OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default',
});

async function os(...args: string[]): Promise<any> {
  const { stdout } = await run(CLI, [...args, '-f', 'json'], { env: env(), timeout: 60_000 });
  return JSON.parse(stdout);
}
async function osRun(...args: string[]): Promise<string> {
  const { stdout } = await run(CLI, args, { env: env(), timeout: 60_000 });
  return stdout;
}
async function osFail(...args: string[]): Promise<string> {
  try {
    await run(CLI, args, { env: env(), timeout: 60_000 });
  } catch (e: any) {
    return String(e.stderr ?? '') + String(e.stdout ?? '');
  }
  throw new Error(`expected failure: ${args.join(' ')}`);
}
async function until<T>(fn: () => Promise<T | false | null | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out: ${what}`);
}

before(async () => { if (!skip) c = await startNetworkCloud(); });
after(async () => { await c?.stop(); });

void test('openstack CLI drives neutron', { skip, timeout: 300_000 }, async (t) => {
  await t.test('devstack defaults are there', async () => {
    const nets = await os('network', 'list');
    assert.deepEqual(nets.map((n: any) => n.Name).sort(), ['private', 'public']);
    const pub = await os('network', 'show', 'public');
    assert.equal(pub['router:external'], true);
    const routers = await os('router', 'list');
    assert.ok(routers.some((r: any) => r.Name === 'router1'));
  });

  await t.test('network and subnets (v4, v6 slaac)', async () => {
    const n = await os('network', 'create', 'cli-net');
    assert.equal(n.status, 'ACTIVE');
    const s4 = await os('subnet', 'create', '--network', 'cli-net', '--subnet-range', '10.9.0.0/24', '--dns-nameserver', '8.8.8.8', 'cli-s4');
    assert.equal(s4.gateway_ip, '10.9.0.1');
    const s6 = await os('subnet', 'create', '--network', 'cli-net', '--ip-version', '6', '--ipv6-ra-mode', 'slaac', '--ipv6-address-mode', 'slaac',
      '--subnet-range', '2001:db8:9::/64', 'cli-s6');
    assert.equal(s6.ipv6_address_mode, 'slaac');
    assert.match(await osFail('subnet', 'create', '--network', 'cli-net', '--subnet-range', '10.9.0.0/25', 'dup'), /overlaps with another subnet/);
  });

  await t.test('ports', async () => {
    const p = await os('port', 'create', '--network', 'cli-net', '--mac-address', '00:16:3e:aa:bb:cc', 'cli-p1');
    assert.equal(p.status, 'DOWN');
    const ips = p.fixed_ips.map((f: any) => f.ip_address);
    assert.ok(ips.includes('2001:db8:9:0:216:3eff:feaa:bbcc'), 'EUI-64 address');
    assert.ok(ips.some((ip: string) => ip.startsWith('10.9.0.')));
    await osRun('port', 'set', '--name', 'cli-p1b', 'cli-p1');
    assert.match(await osFail('port', 'create', '--network', 'cli-net', '--fixed-ip', `ip-address=${ips.find((i: string) => i.startsWith('10.'))}`, 'dup'),
      /IP address .* is in use|IpAddressInUse|409/);
  });

  await t.test('security groups and rules', async () => {
    await os('security', 'group', 'create', 'cli-sg');
    const r = await os('security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '10.0.0.0/8', 'cli-sg');
    assert.equal(r.port_range_min, 22);
    assert.match(await osFail('security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '10.0.0.0/8', 'cli-sg'),
      /Security group rule already exists/);
    const icmp = await os('security', 'group', 'rule', 'create', '--protocol', 'icmp', '--icmp-type', '8', 'cli-sg');
    assert.equal(icmp.protocol, 'icmp');
    await osRun('port', 'set', '--security-group', 'cli-sg', 'cli-p1b');
    assert.match(await osFail('security', 'group', 'delete', 'cli-sg'), /in use/);
  });

  await t.test('router: gateway, subnet, port, extra route', async () => {
    await os('router', 'create', 'cli-r');
    await osRun('router', 'set', '--external-gateway', 'public', 'cli-r');
    await osRun('router', 'add', 'subnet', 'cli-r', 'cli-s4');
    const n2 = await os('network', 'create', 'cli-net2');
    await os('subnet', 'create', '--network', n2.id, '--subnet-range', '10.10.0.0/24', 'cli-s2');
    await os('port', 'create', '--network', n2.id, 'cli-rport');
    await osRun('router', 'add', 'port', 'cli-r', 'cli-rport');
    await osRun('router', 'set', '--route', 'destination=10.50.0.0/24,gateway=10.9.0.55', 'cli-r');
    const r = await os('router', 'show', 'cli-r');
    assert.equal(r.routes.length, 1);
    assert.equal(r.external_gateway_info.enable_snat, true);
    assert.equal(r.interfaces_info.length, 2);
    await until(async () => {
      const ports = await os('port', 'list', '--router', 'cli-r');
      return ports.length === 3 && ports.every((p: any) => p.Status === 'ACTIVE');
    }, 'router ports ACTIVE');
    assert.match(await osFail('router', 'delete', 'cli-r'), /still has ports|409/);
    await osRun('router', 'unset', '--route', 'destination=10.50.0.0/24,gateway=10.9.0.55', 'cli-r');
    assert.equal((await os('router', 'show', 'cli-r')).routes.length, 0);
  });

  await t.test('floating IP create / set / unset / delete', async () => {
    const fip = await os('floating', 'ip', 'create', 'public');
    assert.match(fip.floating_ip_address, /^172\.24\.4\./);
    await osRun('floating', 'ip', 'set', '--port', 'cli-p1b', fip.id);
    const shown = await until(async () => {
      const f = await os('floating', 'ip', 'show', fip.id);
      return f.status === 'ACTIVE' ? f : null;
    }, 'floating IP ACTIVE');
    assert.ok(shown.fixed_ip_address.startsWith('10.9.0.'));
    await osRun('floating', 'ip', 'unset', '--port', fip.id);
    assert.equal((await os('floating', 'ip', 'show', fip.id)).port_id, null);
    await osRun('floating', 'ip', 'delete', fip.id);
    assert.match(await osFail('floating', 'ip', 'show', fip.id), /No FloatingIP found|Floating IP .* could not be found|404/i);
    assert.match(await osFail('floating', 'ip', 'create', 'cli-net'), /is not a valid external network/);
  });

  await t.test('network agent list', async () => {
    const agents = await os('network', 'agent', 'list');
    const types = agents.map((a: any) => a['Agent Type']).sort();
    assert.deepEqual(types, ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Linux bridge agent', 'Metadata agent']);
    assert.ok(agents.every((a: any) => a.Alive === true || a.Alive === ':-)'));
  });

  await t.test('errors a user sees', async () => {
    assert.match(await osFail('network', 'show', 'nope'), /No Network found for nope/);
  });
});
