/**
 * The glance-api.conf options Stratus honours, declared oslo.config-style, and their resolution
 * into the values createImageApp uses (explicit options given in code win).
 * @module
 */
import { IntOpt, StrOpt, type Opt } from '../common/config/opts.js';
import { IMAGE_SIZE_CAP } from './domain.js';

export const imageOpts: Record<string, Opt<any>[]> = {
  DEFAULT: [
    new IntOpt('image_size_cap', { default: IMAGE_SIZE_CAP, min: 1, help: 'Maximum size of image a user can upload in bytes.' }),
    new StrOpt('public_endpoint', { default: null, help: 'Public url endpoint to use for Glance versions response.' }),
    new StrOpt('node_staging_uri', { default: null, help: 'URL (file://) of the staging area for interoperable import (default: <datadir>/staging).' }),
  ],
  glance_store: [
    new StrOpt('filesystem_store_datadir', { default: null, help: 'Directory the filesystem store writes image data to (default: <state_path>/images).' }),
  ],
};

interface ConfigSource {
  register?(group: string, opts: readonly Opt<any>[]): void;
  get?(group: string, name: string): unknown;
}

export interface ImageConfig {
  sizeCap: number;
  publicUrl: string | null;
  datadir: string | null;
  stagingDir: string | null;
}

/** Registers the options on a ConfigOpts (glance-api.conf) and reads them. */
export function resolveImageConfig(config?: unknown): ImageConfig {
  const src = config as ConfigSource | undefined;
  if (typeof src?.register === 'function') for (const [g, opts] of Object.entries(imageOpts)) src.register(g, opts);
  const read = <T>(group: string, name: string): T => {
    const opt = imageOpts[group]!.find((o) => o.name === name)!;
    let v: unknown;
    try {
      v = typeof src?.get === 'function' ? src.get(group, name) : undefined;
    } catch {
      v = undefined;
    }
    return (v === undefined || v === null ? opt.default : v) as T;
  };
  const staging = read<string | null>('DEFAULT', 'node_staging_uri');
  return {
    sizeCap: read<number>('DEFAULT', 'image_size_cap'),
    publicUrl: read<string | null>('DEFAULT', 'public_endpoint'),
    datadir: read<string | null>('glance_store', 'filesystem_store_datadir'),
    stagingDir: staging ? staging.replace(/^file:\/\//, '') : null,
  };
}
