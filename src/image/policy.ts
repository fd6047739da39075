/**
 * Glance's default policies (glance/policies/base.py and image.py, secure-RBAC defaults) on the
 * shared oslo.policy-style Enforcer, plus the image target (glance's `ImageTarget`).
 * @module
 */
import { Enforcer, type RuleDefault } from '../common/policy/index.js';
import type { RequestContext } from '../common/context.js';
import { ApiError } from '../common/errors.js';

const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
const IMAGE_MEMBER_CHECK = 'project_id:%(member_id)s';
const VISIBLE = `${IMAGE_MEMBER_CHECK} or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s`;
const ADMIN = 'rule:context_is_admin';
const ADMIN_OR_PROJECT_MEMBER = `${ADMIN} or (${PROJECT_MEMBER})`;
const ADMIN_OR_PROJECT_READER = `${ADMIN} or (${PROJECT_READER})`;

export const GLANCE_POLICY_DEFAULTS: RuleDefault[] = [
  { name: 'default', checkStr: '' },
  { name: 'context_is_admin', checkStr: 'role:admin' },
  { name: 'service_api', checkStr: 'role:service or role:admin' },
  { name: 'add_image', checkStr: `${ADMIN} or (${PROJECT_MEMBER} and project_id:%(owner)s)` },
  { name: 'delete_image', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'get_image', checkStr: `${ADMIN} or (role:reader and (project_id:%(project_id)s or ${VISIBLE}))` },
  { name: 'get_images', checkStr: ADMIN_OR_PROJECT_READER },
  { name: 'modify_image', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'publicize_image', checkStr: ADMIN },
  { name: 'communitize_image', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'download_image', checkStr: `${ADMIN} or (role:member and (project_id:%(project_id)s or ${VISIBLE}))` },
  { name: 'upload_image', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'delete_image_location', checkStr: ADMIN },
  { name: 'get_image_location', checkStr: ADMIN_OR_PROJECT_READER },
  { name: 'set_image_location', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'add_member', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'delete_member', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'get_member', checkStr: `${ADMIN} or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK})` },
  { name: 'get_members', checkStr: `${ADMIN} or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK})` },
  { name: 'modify_member', checkStr: `${ADMIN} or (role:member and ${IMAGE_MEMBER_CHECK})` },
  { name: 'deactivate', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'reactivate', checkStr: ADMIN_OR_PROJECT_MEMBER },
  { name: 'copy_image', checkStr: ADMIN },
];

/** What rules see of an image: owner as project_id, and the caller's project as member_id on shared images. */
export interface ImageTargetSource {
  owner: string | null;
  visibility: string;
}

export function imageTarget(ctx: RequestContext, image: ImageTargetSource): Record<string, unknown> {
  const member = image.visibility === 'shared' && ctx.projectId !== image.owner ? ctx.projectId : null;
  return { project_id: image.owner, owner: image.owner, visibility: image.visibility, member_id: member };
}

/**
 * glance/api/v2/policy.py `ImageAPIPolicy`: a denied rule on an image the caller cannot even
 * see is a 404 (so existence does not leak), otherwise a 403.
 */
export class ImagePolicy {
  constructor(readonly enforcer: Enforcer = new Enforcer(GLANCE_POLICY_DEFAULTS)) {}

  allowed(rule: string, ctx: RequestContext, target: Record<string, unknown>): boolean {
    return this.enforcer.enforce(rule, target, ctx);
  }

  /** Enforces `rule` on an existing image. */
  enforce(rule: string, ctx: RequestContext, image: ImageTargetSource): void {
    const target = imageTarget(ctx, image);
    if (this.enforcer.enforce(rule, target, ctx)) return;
    if (rule === 'get_image' || !this.enforcer.enforce('get_image', target, ctx)) {
      throw new ApiError(404, 'The resource could not be found.');
    }
    throw new ApiError(403, `You are not authorized to complete ${rule} action.`);
  }

  /** Visibility changes need publicize/communitize rights (glance/api/policy.py `_enforce_image_visibility`). */
  enforceVisibility(ctx: RequestContext, visibility: unknown, target: Record<string, unknown>): void {
    if (visibility === 'public' && !this.enforcer.enforce('publicize_image', target, ctx)) {
      throw new ApiError(403, 'You are not authorized to complete publicize_image action.');
    }
    if (visibility === 'community' && !this.enforcer.enforce('communitize_image', target, ctx)) {
      throw new ApiError(403, 'You are not authorized to complete communitize_image action.');
    }
  }
}
