/**
 * Entity serializers (oslo `Serializer`): turn arguments and results into wire primitives and
 * back, e.g. versioned objects into their `nova_object.*` form.
 * @module
 */
import type { RequestContext } from '../context.js';

export interface Serializer {
  serializeEntity(ctx: RequestContext, v: unknown): unknown;
  deserializeEntity(ctx: RequestContext, v: unknown): unknown;
}

export const noopSerializer: Serializer = {
  serializeEntity: (_ctx, v) => v,
  deserializeEntity: (_ctx, v) => v,
};
