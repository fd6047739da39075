/**
 * Image members (glance/api/v2/image_members.py): sharing a `shared` image with other
 * projects, who accept or reject it. The owner manages the list; a member sees and changes
 * only its own membership.
 * @module
 */
import type { RequestContext } from '../common/context.js';
import { ApiError } from '../common/errors.js';
import { MEMBER_QUOTA, MEMBER_STATUSES, type MemberStatus } from './domain.js';
import type { Image, ImageMember } from './db/repository.js';
import { imageTarget } from './policy.js';
import type { ImageAPI } from './api.js';

export class ImageMemberAPI {
  constructor(private readonly api: ImageAPI) {}

  async list(ctx: RequestContext, id: string): Promise<ImageMember[]> {
    const image = await this.api.lookup(ctx, id);
    if (image.visibility !== 'shared') throw new ApiError(403, `Not allowed to list members for image ${id}: Only shared images have members.`);
    const target = imageTarget(ctx, image);
    if (!this.api.policy.allowed('get_members', ctx, target)) throw new ApiError(403, `Not allowed to list members for image ${id}: You are not authorized to complete get_members action.`);
    // glance's `image_member_find`: a member project sees only its own membership.
    const members = await this.api.repo.listMembers(id);
    return members.filter((m) => this.seesMember(ctx, image, m.member_id));
  }

  async show(ctx: RequestContext, id: string, memberId: string): Promise<ImageMember> {
    const image = await this.api.lookup(ctx, id);
    if (image.visibility !== 'shared') throw new ApiError(404, 'Only shared images have members.');
    return this.lookupMember(ctx, image, memberId);
  }

  async add(ctx: RequestContext, id: string, body: unknown): Promise<ImageMember> {
    if (body === undefined) throw new ApiError(400, 'Body expected in request.');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'Expected a member in the form: {"member": "image_id"}');
    const b = body as Record<string, unknown>;
    if (!('member' in b)) throw new ApiError(400, 'Member to be added not specified');
    const memberId = b['member'];
    if (!memberId) throw new ApiError(400, "Member can't be empty");
    if (typeof memberId !== 'string') throw new ApiError(400, 'Expected a member in the form: {"member": "image_id"}');
    const image = await this.api.lookup(ctx, id);
    if (image.visibility !== 'shared' || !this.api.policy.allowed('add_member', ctx, imageTarget(ctx, image))) {
      throw new ApiError(403, `Not allowed to create members for image ${id}.`);
    }
    const count = (await this.api.repo.listMembers(id)).length + 1;
    if (count > MEMBER_QUOTA) {
      throw new ApiError(413, `Image member limit exceeded for image ${id}: The limit has been exceeded on the number of allowed image members for this image. Attempted: ${count}, Maximum: ${MEMBER_QUOTA}:`);
    }
    return this.api.repo.addMember(id, memberId);
  }

  async update(ctx: RequestContext, id: string, memberId: string, body: unknown): Promise<ImageMember> {
    if (body === undefined) throw new ApiError(400, 'Body expected in request.');
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'Expected a status in the form: {"status": "status"}');
    const b = body as Record<string, unknown>;
    if (!('status' in b)) throw new ApiError(400, 'Status not specified');
    const image = await this.api.lookup(ctx, id);
    if (image.visibility !== 'shared') throw new ApiError(403, `Not allowed to update members for image ${id}.`);
    const member = await this.lookupMember(ctx, image, memberId);
    if (!this.api.policy.allowed('modify_member', ctx, { ...imageTarget(ctx, image), member_id: memberId })) {
      throw new ApiError(403, `Not allowed to update members for image ${id}.`);
    }
    const status = b['status'];
    if (!(MEMBER_STATUSES as readonly unknown[]).includes(status)) {
      throw new ApiError(400, 'Incorrect request: Status must be "pending", "accepted" or "rejected".');
    }
    await this.api.repo.updateMember(id, memberId, status as MemberStatus);
    return { ...member, status: status as MemberStatus, updated_at: new Date() };
  }

  async delete(ctx: RequestContext, id: string, memberId: string): Promise<void> {
    const image = await this.api.lookup(ctx, id);
    if (image.visibility !== 'shared') throw new ApiError(403, `Not allowed to delete members for image ${id}.`);
    await this.lookupMember(ctx, image, memberId);
    if (!this.api.policy.allowed('delete_member', ctx, imageTarget(ctx, image))) throw new ApiError(403, `Not allowed to delete members for image ${id}.`);
    await this.api.repo.deleteMember(id, memberId);
  }

  private async lookupMember(ctx: RequestContext, image: Image, memberId: string): Promise<ImageMember> {
    const notFound = () => new ApiError(404, `${memberId} not found in the member list of the image ${image.id}.`);
    const target = { ...imageTarget(ctx, image), member_id: memberId };
    if (!this.seesMember(ctx, image, memberId) || !this.api.policy.allowed('get_member', ctx, target)) throw notFound();
    const member = await this.api.repo.getMember(image.id, memberId);
    if (!member) throw notFound();
    return member;
  }

  private seesMember(ctx: RequestContext, image: Image, memberId: string): boolean {
    return ctx.isAdmin || (ctx.projectId !== null && (image.owner === ctx.projectId || memberId === ctx.projectId));
  }
}
