/** OpenStack's well-known ports, and free-port picking for tests that run several clouds. */
import net from 'node:net';

export const DEFAULT_PORTS = {
  identity: 5000,
  compute: 8774,
  placement: 8778,
  image: 9292,
  network: 9696,
  volume: 8776,
} as const;

export type ServiceType = keyof typeof DEFAULT_PORTS;

/** Asks the kernel for a free loopback port (released right away; callers bind it soon after). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function resolvePorts(random: boolean, host = '127.0.0.1'): Promise<Record<ServiceType, number>> {
  const out = { ...DEFAULT_PORTS } as Record<ServiceType, number>;
  if (random) for (const k of Object.keys(out) as ServiceType[]) out[k] = await freePort(host);
  return out;
}
