/**
 * /traits and /resource_classes (placement/handlers/trait.py, resource_class.py).
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { NotFound, TraitNotFound } from '../exceptions.js';
import {
  ResourceClassCannotDeleteStandard, ResourceClassCannotUpdateStandard, ResourceClassExists, ResourceClassInUse,
  createResourceClass, deleteResourceClass, getResourceClass, listResourceClasses, renameResourceClass,
} from '../db/resource-classes.js';
import { TraitCannotDeleteStandard, TraitInUse, deleteTrait, ensureTrait, getTrait, listTraits, type TraitFilters } from '../db/traits.js';
import { compileSchema } from '../../common/http/validation.js';
import { toDate } from '../db/sql.js';
import type { PlacementDeps } from './deps.js';
import * as S from './schemas.js';
import {
  authorize, checkAccept, extractJson, httpDate, httpError, last, latest, queryOf, requireJson, requireVersion, sendEmpty,
  sendJson, validateQuery, atLeast,
} from './util.js';

const customTrait = compileSchema(S.CUSTOM_TRAIT);
const customRc = compileSchema(S.POST_RC);

export function registerTraitsAndClasses(app: FastifyInstance, deps: PlacementDeps): void {
  const { database, policy } = deps;
  type N = { Params: { name: string } };

  // --- traits ---
  app.get('/traits', async (req, reply) => {
    requireVersion(req, '1.6');
    checkAccept(req);
    authorize(req, policy, 'placement:traits:list');
    const q = queryOf(req);
    validateQuery(q, S.LIST_TRAIT);
    const filters: TraitFilters = {};
    const name = last(q, 'name');
    if (name !== undefined) {
      const i = name.indexOf(':');
      if (i < 0) {
        throw httpError(400, `Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${name}"`);
      }
      const op = name.slice(0, i);
      const value = name.slice(i + 1);
      if (op === 'in') filters.nameIn = value.split(',');
      else if (op === 'startswith') filters.prefix = value;
    }
    const assoc = last(q, 'associated');
    if (assoc !== undefined) {
      if (!['true', 'false'].includes(assoc.toLowerCase())) {
        throw httpError(400, 'The query parameter "associated" only accepts "true" or "false"');
      }
      filters.associated = assoc.toLowerCase() === 'true';
    }
    const traits = await listTraits(database.db, filters);
    return sendJson(req, reply, { traits: traits.map((t) => t.name) }, {
      lastModified: latest(traits.map((t) => toDate(t.updated_at) ?? toDate(t.created_at))),
    });
  });

  app.get<N>('/traits/:name', async (req, reply) => {
    requireVersion(req, '1.6');
    authorize(req, policy, 'placement:traits:show');
    try {
      const t = await getTrait(database.db, req.params.name);
      if (atLeast(req, '1.15')) {
        reply.header('last-modified', httpDate(toDate(t.created_at))).header('cache-control', 'no-cache');
      }
    } catch (e) {
      if (e instanceof TraitNotFound) throw httpError(404, e.message);
      throw e;
    }
    return sendEmpty(reply);
  });

  app.put<N>('/traits/:name', async (req, reply) => {
    requireVersion(req, '1.6');
    authorize(req, policy, 'placement:traits:update');
    const name = req.params.name;
    if (!customTrait(name)) {
      throw httpError(400, 'The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" '
        + 'and use following characters: "A"-"Z", "0"-"9" and "_"');
    }
    const { trait, created } = await ensureTrait(database, name);
    reply.header('location', `/traits/${trait.name}`);
    if (atLeast(req, '1.15')) reply.header('last-modified', httpDate(toDate(trait.created_at))).header('cache-control', 'no-cache');
    return sendEmpty(reply, created ? 201 : 204);
  });

  app.delete<N>('/traits/:name', async (req, reply) => {
    requireVersion(req, '1.6');
    authorize(req, policy, 'placement:traits:delete');
    try {
      await deleteTrait(database, req.params.name);
    } catch (e) {
      if (e instanceof TraitNotFound) throw httpError(404, e.message);
      if (e instanceof TraitCannotDeleteStandard) throw httpError(400, e.message);
      if (e instanceof TraitInUse) throw httpError(409, e.message);
      throw e;
    }
    return sendEmpty(reply);
  });

  // --- resource classes ---
  const rcBody = (name: string) => ({ name, links: [{ rel: 'self', href: `/resource_classes/${name}` }] });

  app.get('/resource_classes', async (req, reply) => {
    requireVersion(req, '1.2');
    checkAccept(req);
    authorize(req, policy, 'placement:resource_classes:list');
    const rcs = await listResourceClasses(database.db);
    return sendJson(req, reply, { resource_classes: rcs.map((r) => rcBody(r.name)) }, {
      lastModified: latest(rcs.map((r) => toDate(r.updated_at) ?? toDate(r.created_at))),
    });
  });

  app.post('/resource_classes', async (req, reply) => {
    requireVersion(req, '1.2');
    requireJson(req);
    authorize(req, policy, 'placement:resource_classes:create');
    const data = extractJson<{ name: string }>(req, S.POST_RC);
    try {
      await createResourceClass(database, data.name);
    } catch (e) {
      if (e instanceof ResourceClassExists) throw httpError(409, `Conflicting resource class already exists: ${data.name}`);
      throw e;
    }
    reply.header('location', `/resource_classes/${data.name}`);
    return sendEmpty(reply, 201);
  });

  app.get<N>('/resource_classes/:name', async (req, reply) => {
    requireVersion(req, '1.2');
    checkAccept(req);
    authorize(req, policy, 'placement:resource_classes:show');
    try {
      const rc = await getResourceClass(database.db, req.params.name);
      return sendJson(req, reply, rcBody(rc.name), { lastModified: toDate(rc.updated_at) ?? toDate(rc.created_at) });
    } catch (e) {
      if (e instanceof NotFound) throw httpError(404, e.message);
      throw e;
    }
  });

  app.put<N>('/resource_classes/:name', async (req, reply) => {
    requireVersion(req, '1.2');
    authorize(req, policy, 'placement:resource_classes:update');
    const name = req.params.name;
    if (!atLeast(req, '1.7')) {
      requireJson(req);
      const data = extractJson<{ name: string }>(req, S.POST_RC);
      try {
        const rc = await renameResourceClass(database, name, data.name);
        return sendJson(req, reply, rcBody(rc.name), { cache: false });
      } catch (e) {
        if (e instanceof NotFound) throw httpError(404, e.message);
        if (e instanceof ResourceClassExists) throw httpError(409, `Resource class already exists: ${data.name}`);
        if (e instanceof ResourceClassCannotUpdateStandard) throw httpError(400, `Cannot update standard resource class ${name}`);
        throw e;
      }
    }
    if (!customRc({ name })) {
      throw httpError(400, `JSON does not validate: '${name}' does not match '${S.CUSTOM_RC_PATTERN}'`);
    }
    let status = 204;
    try {
      await getResourceClass(database.db, name);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      try {
        await createResourceClass(database, name);
        status = 201;
      } catch (e2) {
        if (!(e2 instanceof ResourceClassExists)) throw e2;
      }
    }
    reply.header('location', `/resource_classes/${name}`);
    return sendEmpty(reply, status);
  });

  app.delete<N>('/resource_classes/:name', async (req, reply) => {
    requireVersion(req, '1.2');
    authorize(req, policy, 'placement:resource_classes:delete');
    try {
      await deleteResourceClass(database, req.params.name);
    } catch (e) {
      if (e instanceof NotFound) throw httpError(404, e.message);
      if (e instanceof ResourceClassCannotDeleteStandard) throw httpError(400, `Error in delete resource class: ${e.message}`);
      if (e instanceof ResourceClassInUse) throw httpError(409, `Error in delete resource class: ${e.message}`);
      throw e;
    }
    return sendEmpty(reply);
  });
}
