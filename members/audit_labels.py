"""Readable names of the member roll's audit actions (registered in MembersConfig.ready)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "member.registered": _("登记会员"),
    "member.updated": _("修改会员就业信息"),
    "member.corrected": _("更正会员信息"),
    "member.contact_updated": _("更正联系方式"),
    "member.personal_data_viewed": _("查看完整个人信息"),
    "member.exported": _("导出会员名册"),
    "member.data_exported": _("下载本人个人信息"),
    "member.honour_added": _("登记荣誉"),
    "member.imported": _("导入名册"),
    "member.import_queued": _("上传名册"),
    "member.import_errors_downloaded": _("下载导入错误清单"),
    "member.join_applied": _("提交入会申请"),
    "member.join_not_filed": _("重复入会申请未受理"),
    "member.join_approved": _("批准入会申请"),
    "member.join_rejected": _("驳回入会申请"),
    "member.join_applications_purged": _("清理过期入会申请"),
    "member.join_code_created": _("生成入会二维码"),
    "member.join_code_revoked": _("作废入会二维码"),
    "member.identity_verified_in_person": _("当面核验身份"),
    "member.identity_claim_refused": _("拒绝身份认领"),
    "member.transfer_requested": _("申请会员关系转接"),
    "member.transfer_consented": _("同意会员关系转接"),
    "member.transfer_declined": _("拒绝会员关系转接"),
    "member.transfer_accepted": _("接收会员关系转接"),
    "member.transfer_rejected": _("退回会员关系转接"),
    "member.transfer_cancelled": _("撤回会员关系转接"),
    "member.membership_transferred_out": _("会籍转出"),
    "member.membership_left": _("办理退会"),
    "member.membership_retired": _("办理退休"),
    "member.membership_deceased": _("登记会员去世"),
    "member.memberships_merged": _("会籍随组织合并"),
    "member.field_keys_rotated": _("轮换个人信息密钥"),
}
AREAS = {"member": _("会员")}
