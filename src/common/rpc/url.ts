/**
 * oslo.messaging transport URLs: `rabbit://user:pass@host:port[,user:pass@host2:port]/vhost`,
 * `inproc://[name]` (alias `fake://`).
 * @module
 */

export interface RabbitHost {
  hostname: string;
  port: number;
  username: string;
  password: string;
}

export type TransportUrl =
  | { driver: 'inproc'; name: string }
  | { driver: 'rabbit'; hosts: RabbitHost[]; vhost: string; query: URLSearchParams };

export function parseTransportUrl(url: string): TransportUrl {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url.trim());
  if (!m) throw new Error(`Invalid transport URL: ${url}`);
  const scheme = m[1]!.toLowerCase();
  let rest = m[2]!;
  if (scheme === 'inproc' || scheme === 'fake') return { driver: 'inproc', name: rest.replace(/\/+$/, '') };
  if (scheme !== 'rabbit' && scheme !== 'amqp' && scheme !== 'kombu') throw new Error(`Unsupported transport driver: ${scheme}`);
  let query = new URLSearchParams();
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = new URLSearchParams(rest.slice(q + 1));
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const netloc = slash >= 0 ? rest.slice(0, slash) : rest;
  const vhost = slash >= 0 ? decodeURIComponent(rest.slice(slash + 1)) : '';
  const hosts: RabbitHost[] = [];
  let lastUser = 'guest';
  let lastPass = 'guest';
  for (const part of netloc.split(',').filter(Boolean)) {
    const at = part.lastIndexOf('@');
    let cred = '';
    let hostport = part;
    if (at >= 0) {
      cred = part.slice(0, at);
      hostport = part.slice(at + 1);
      const colon = cred.indexOf(':');
      lastUser = decodeURIComponent(colon >= 0 ? cred.slice(0, colon) : cred);
      lastPass = decodeURIComponent(colon >= 0 ? cred.slice(colon + 1) : '');
    }
    let hostname = hostport;
    let port = 5672;
    const v6 = /^\[(.*)\](?::(\d+))?$/.exec(hostport);
    if (v6) {
      hostname = v6[1]!;
      if (v6[2]) port = Number(v6[2]);
    } else if (hostport.includes(':')) {
      hostname = hostport.slice(0, hostport.lastIndexOf(':'));
      port = Number(hostport.slice(hostport.lastIndexOf(':') + 1));
    }
    hosts.push({ hostname: hostname || 'localhost', port, username: lastUser, password: lastPass });
  }
  if (hosts.length === 0) hosts.push({ hostname: 'localhost', port: 5672, username: 'guest', password: 'guest' });
  // oslo: an empty path is the default vhost "/".
  return { driver: 'rabbit', hosts, vhost: vhost || '/', query };
}

/** The transport URL from the environment (`STRATUS_TRANSPORT_URL`), else the in-process bus. */
export function getTransportUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env['STRATUS_TRANSPORT_URL'] || 'inproc://';
}
