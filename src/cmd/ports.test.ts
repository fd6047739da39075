import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { freePort, isAddressInUse, resolvePorts } from './ports.js';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

test('free ports lie below the ephemeral range, are bindable, and are never handed out twice', async () => {
  const ports = Object.values(await resolvePorts(true));
  ports.push(...(await Promise.all([freePort(), freePort(), freePort()])));
  assert.equal(new Set(ports).size, ports.length);
  for (const p of ports) assert.ok(p >= 10000 && p < ephemeralLow, `${p} is below ${ephemeralLow}`);
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(ports[0], '127.0.0.1', resolve));
  await new Promise((resolve) => srv.close(resolve));
});

test('never a port fetch() refuses: 10080 is passed over', async () => {
  await assert.rejects(fetch('http://127.0.0.1:10080/'), (e: Error) => String((e.cause as Error)?.message) === 'bad port');
  let n = 0;
  // the first pick lands on 10080, the next on 10081 (if that is free) or later ones
  const span = ephemeralLow - 10000;
  const picks = [80 / span, 81.5 / span];
  const port = await freePort('127.0.0.1', () => picks[n++] ?? Math.random());
  assert.notEqual(port, 10080);
  assert.ok(n >= 2, 'a second pick was made');
});

test('well-known ports unless asked for free ones', async () => {
  assert.equal((await resolvePorts(false)).compute, 8774);
});

test('a taken address is recognised by code or by the message a worker thread passes on', async () => {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  const second = net.createServer();
  const err = await new Promise<Error>((resolve) => second.once('error', resolve).listen(port, '127.0.0.1'));
  srv.close();
  assert.ok(isAddressInUse(err));
  assert.ok(isAddressInUse(new Error(`listen ${err.message}`)));
  assert.ok(!isAddressInUse(new Error('ECONNREFUSED')));
});
