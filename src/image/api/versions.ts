/**
 * The versions document (glance/api/versions.py). Only the v2 minor versions whose features
 * exist here are listed: 2.0-2.5 (core, tasks-free), 2.6 (interoperable import, glance-direct)
 * and 2.7 (os_hidden, multihash) as CURRENT.
 * @module
 */
const VERSIONS: Array<[string, 'CURRENT' | 'SUPPORTED']> = [
  ['2.7', 'CURRENT'],
  ['2.6', 'SUPPORTED'],
  ['2.5', 'SUPPORTED'],
  ['2.4', 'SUPPORTED'],
  ['2.3', 'SUPPORTED'],
  ['2.2', 'SUPPORTED'],
  ['2.1', 'SUPPORTED'],
  ['2.0', 'SUPPORTED'],
];

export function versionsDocument(baseUrl: string): { versions: unknown[] } {
  const href = `${baseUrl.replace(/\/+$/, '')}/v2/`;
  return {
    versions: VERSIONS.map(([v, status]) => ({ id: `v${v}`, status, links: [{ rel: 'self', href }] })),
  };
}
