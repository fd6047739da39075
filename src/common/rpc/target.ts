/**
 * Targets (where a message goes) and oslo.messaging's version rules.
 * @module
 */

export interface Target {
  exchange?: string;
  topic: string;
  server?: string;
  fanout?: boolean;
  namespace?: string | null;
  version?: string;
}

/** oslo's default `control_exchange`. */
export const DEFAULT_EXCHANGE = 'openstack';

/** Answers of versionIsCompatible by `"<implemented> <requested>"`. */
const compatible = new Map<string, boolean>();

/**
 * oslo `version_is_compatible(imp_version, version)`: same major, requested minor (and
 * revision) not above the implemented one. A missing implemented version accepts anything.
 */
export function versionIsCompatible(impVersion: string | null | undefined, version: string | null | undefined): boolean {
  if (impVersion == null) return true;
  if (version == null) return false;
  // Every request asks this of every endpoint; the pairs in use are few.
  const key = `${impVersion} ${version}`;
  let ok = compatible.get(key);
  if (ok === undefined) {
    ok = compareVersions(impVersion, version);
    if (compatible.size < 10_000) compatible.set(key, ok);
  }
  return ok;
}


function compareVersions(impVersion: string, version: string): boolean {
  const v = version.split('.');
  const iv = impVersion.split('.');
  const n = (s: string | undefined): number => (s === undefined ? 0 : Number.parseInt(s, 10));
  if (n(v[0]) !== n(iv[0])) return false;
  if (n(v[1]) > n(iv[1])) return false;
  if (n(v[1]) === n(iv[1]) && n(v[2]) > n(iv[2])) return false;
  return true;
}

/** Throws unless `version` is `major.minor[.rev]` with integers (oslo `_check_version`). */
export function checkVersion(version: string): void {
  if (!/^\d+\.\d+(\.\d+)?$/.test(version)) {
    throw new Error(`Version must contain a major and minor integer. Got ${version}`);
  }
}

/** Routing key of a topic send: `topic` or `topic.server`. */
export function routingKey(target: Target): string {
  return target.server ? `${target.topic}.${target.server}` : target.topic;
}

/** Name of the fanout exchange of a topic. */
export function fanoutExchange(topic: string): string {
  return `${topic}_fanout`;
}
