/** Databases: open by URL, dialect helpers, migrations, the per-service schema registry. @module */
export * from './connection.js';
export * from './dialect.js';
export * from './open.js';
export * from './migrate.js';
export * from './registry.js';
