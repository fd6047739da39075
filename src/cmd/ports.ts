/** OpenStack's well-known ports, and free-port picking for tests that run several clouds. */
import net from 'node:net';
import { readFileSync } from 'node:fs';

export const DEFAULT_PORTS = {
  identity: 5000,
  compute: 8774,
  placement: 8778,
  image: 9292,
  network: 9696,
  volume: 8776,
} as const;

export type ServiceType = keyof typeof DEFAULT_PORTS;

/** Where the kernel's ephemeral range starts: outgoing connections (database, broker, HTTP clients) take their local ports from it. */
function readEphemeralLow(): number {
  try {
    const lo = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (lo > 11000) return lo;
  } catch {
    // not Linux: IANA's dynamic range
  }
  return 49152;
}

let ephemeralLow: number | undefined;
const handedOut = new Set<number>();

/** Where picking starts: above the well-known ports of the services and their databases. */
const PICK_LOW = 10000;

/**
 * The Fetch standard's "bad ports" at or above PICK_LOW: `fetch()` (undici) refuses to connect to
 * them ("bad port"), so an API there is unreachable from the tests' and benches' clients.
 */
const FETCH_BAD_PORTS = new Set([10080]);

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port for a listener that binds it soon after. Picked below the ephemeral range, so an
 * outgoing connection of this or another process cannot take it between the check and the bind
 * (a port from `listen(0)` is ephemeral and can); never the same one twice in a process, and
 * never one that `fetch()` refuses.
 */
export async function freePort(host = '127.0.0.1', random: () => number = Math.random): Promise<number> {
  ephemeralLow ??= readEphemeralLow();
  const span = ephemeralLow - PICK_LOW;
  for (let i = 0; i < 200; i++) {
    const port = PICK_LOW + Math.floor(random() * span);
    if (handedOut.has(port) || FETCH_BAD_PORTS.has(port)) continue;
    if (await canBind(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port below ${ephemeralLow} on ${host}`);
}

export async function resolvePorts(random: boolean, host = '127.0.0.1'): Promise<Record<ServiceType, number>> {
  const out = { ...DEFAULT_PORTS } as Record<ServiceType, number>;
  if (random) for (const k of Object.keys(out) as ServiceType[]) out[k] = await freePort(host);
  return out;
}

/** True when a start failed because a picked port was taken after all (worth one more try with new ports). */
export function isAddressInUse(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return err?.code === 'EADDRINUSE' || (typeof err?.message === 'string' && err.message.includes('EADDRINUSE'));
}
