/**
 * User messages (`cinder/message/`): when an asynchronous operation fails, the volume goes to
 * `error` and the user can read why at /v3/{project_id}/messages (microversion 3.3).
 * The wording is built from Cinder's action and detail tables (`message_field.py`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../common/context.js';
import { nowIso, type CinderDb } from './db/api.js';

export const Action = {
  SCHEDULE_ALLOCATE_VOLUME: ['001', 'schedule allocate volume'],
  ATTACH_VOLUME: ['002', 'attach volume'],
  COPY_VOLUME_TO_IMAGE: ['003', 'copy volume to image'],
  UPDATE_ATTACHMENT: ['004', 'update attachment'],
  COPY_IMAGE_TO_VOLUME: ['005', 'copy image to volume'],
  EXTEND_VOLUME: ['007', 'extend volume'],
  CREATE_VOLUME_FROM_BACKEND: ['008', 'create volume from backend storage'],
  SNAPSHOT_CREATE: ['009', 'create snapshot'],
  SNAPSHOT_DELETE: ['010', 'delete snapshot'],
} as const satisfies Record<string, readonly [string, string]>;

export const Detail = {
  UNKNOWN_ERROR: ['001', 'An unknown error occurred.'],
  NO_BACKEND_AVAILABLE: ['003', 'Could not find any available weighted backend.'],
} as const satisfies Record<string, readonly [string, string]>;

/** `message_ttl`: 30 days. */
const TTL_MS = 2_592_000_000;

export interface MessageRow {
  id: string;
  project_id: string;
  request_id: string | null;
  resource_type: string | null;
  resource_uuid: string | null;
  event_id: string;
  detail_id: string | null;
  action_id: string | null;
  message_level: string;
  created_at: string;
  expires_at: string | null;
  deleted: number;
}

export function userMessage(m: Pick<MessageRow, 'action_id' | 'detail_id'>): string {
  const action = Object.values(Action).find((a) => a[0] === m.action_id)?.[1] ?? 'unknown action';
  const detail = Object.values(Detail).find((d) => d[0] === m.detail_id)?.[1] ?? Detail.UNKNOWN_ERROR[1];
  return `${action}: ${detail}`;
}

/** `message_api.create`: never fails the operation that records it. */
export async function recordMessage(db: CinderDb, ctx: RequestContext, m: {
  projectId: string; resourceType: 'VOLUME' | 'VOLUME_SNAPSHOT'; resourceUuid: string;
  action: readonly [string, string]; detail?: readonly [string, string];
}): Promise<void> {
  const detail = m.detail ?? Detail.UNKNOWN_ERROR;
  const created = new Date();
  const row: MessageRow = {
    id: randomUUID(), project_id: m.projectId, request_id: ctx.requestId, resource_type: m.resourceType, resource_uuid: m.resourceUuid,
    event_id: `VOLUME_${m.resourceType}_${m.action[0]}_${detail[0]}`, action_id: m.action[0], detail_id: detail[0], message_level: 'ERROR',
    created_at: nowIso(), expires_at: new Date(created.getTime() + TTL_MS).toISOString().replace('Z', '000').slice(0, 26), deleted: 0,
  };
  await db.db.insertInto('messages').values(row).execute().catch(() => undefined);
}
