/**
 * glance-api: the Glance v2 REST app over the `glance` database and the filesystem store
 * under `<stateDir>/images`.
 * @module
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../common/http/app.js';
import type { TokenValidator } from '../common/http/auth-types.js';
import { migrate, registerDbSchema, type Database } from '../common/db/index.js';
import { GLANCE_MIGRATIONS } from './db/migrations.js';
import { ImageRepository } from './db/repository.js';
import type { GlanceDB } from './db/schema.js';
import { FilesystemStore } from './store/filesystem.js';
import { resolveImageConfig } from './config.js';
import { ImageAPI } from './api.js';
import { registerImageRoutes } from './api/routes.js';
import { registerMetadefRoutes } from './api/metadef-routes.js';
import { MetadefService } from './metadefs.js';

registerDbSchema('glance', GLANCE_MIGRATIONS);

declare module 'fastify' {
  interface FastifyInstance {
    /** The image service facade behind this app (used by `stratus up` to register images). */
    imageApi: ImageAPI;
  }
}

export interface ImageAppOptions {
  database: Database;
  /** Images live under `<stateDir>/images`, staged imports under `<stateDir>/images/staging`. */
  stateDir: string;
  validator?: TokenValidator;
  authUrl?: string;
  /** Base URL in the versions document (glance's `public_endpoint`); default: from the request. */
  publicUrl?: string;
  host?: string;
  /** `image_size_cap` in bytes (default 1 TiB). */
  sizeCap?: number;
  /** glance-api.conf (`[DEFAULT] image_size_cap, public_endpoint, node_staging_uri`, `[glance_store] filesystem_store_datadir`). */
  config?: unknown;
}

/** Builds the Glance app (not listening); migrates the `glance` database first. */
export async function createImageApp(opts: ImageAppOptions): Promise<FastifyInstance> {
  const conf = resolveImageConfig(opts.config);
  await migrate(opts.database, 'glance', GLANCE_MIGRATIONS);
  const imagesDir = conf.datadir ?? path.join(opts.stateDir, 'images');
  const store = new FilesystemStore(imagesDir);
  await store.init();
  const api = new ImageAPI({
    repo: new ImageRepository(opts.database as Database<GlanceDB>),
    store,
    stagingDir: conf.stagingDir ?? path.join(imagesDir, 'staging'),
    sizeCap: opts.sizeCap ?? conf.sizeCap,
  });
  const publicUrl = opts.publicUrl ?? conf.publicUrl ?? undefined;
  await api.recoverInterrupted();
  const app = createApp({
    service: 'glance-api',
    faults: 'glance',
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.validator ? { validator: opts.validator } : {}),
    ...(opts.authUrl ? { authUrl: opts.authUrl } : {}),
  });
  app.decorate('imageApi', api);
  registerImageRoutes(app, api, publicUrl ? { publicUrl } : {});
  registerMetadefRoutes(app, new MetadefService(opts.database));
  app.addHook('onClose', async () => api.close());
  return app;
}

export { ImageAPI } from './api.js';
export { imageOpts } from './config.js';
export { ensureDefaultImage, ensureDefaultImages, writeBootableDiskImage } from './default-image.js';
