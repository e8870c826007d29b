"""Readable names of the organisation tree's audit actions (registered in OrganizationsConfig.ready)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "organization.created": _("设立组织"),
    "organization.updated": _("修改组织信息"),
    "organization.moved": _("移动组织"),
    "organization.merged": _("合并组织"),
    "organization.dissolved": _("撤销组织"),
    "enterprise.created": _("登记企业"),
    "enterprise.updated": _("修改企业信息"),
    "officer.created": _("登记工会干部"),
    "officer.updated": _("修改工会干部"),
    "station.created": _("设立服务站点"),
    "station.updated": _("修改服务站点"),
    "role.assigned": _("授予角色"),
    "role.revoked": _("撤销角色"),
    "user.created": _("创建账号"),
    "user.updated": _("修改账号"),
    "demo.seeded": _("生成演示数据"),
    "report.monthly_built": _("生成月报"),
}
AREAS = {
    "organization": _("组织"),
    "enterprise": _("企业"),
    "officer": _("工会干部"),
    "station": _("服务站点"),
    "role": _("角色"),
    "user": _("账号"),
    "demo": _("演示数据"),
    "report": _("统计报表"),
}
