/**
 * Loads every versioned object class so the serializer can decode any of them
 * (nova's `objects.register_all()`, run by every binary at start).
 * @module
 */
import './flavor.js';
import './instance.js';
import './request-spec.js';
import './compute-node.js';
import './instance-action.js';
import './block-device.js';
import './migration.js';

export { NovaObject, NovaObjectSerializer, fromPrimitive, registerObject } from './base.js';
