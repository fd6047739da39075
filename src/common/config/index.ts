/** Configuration: oslo.config-style INI files and typed options. @module */
export * from './ini.js';
export * from './opts.js';
export * from './config.js';
export * from './common-opts.js';
export * from './sample.js';
