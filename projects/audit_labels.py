"""Readable names of the service projects' audit actions (registered in ProjectsConfig.ready)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "projects.demand_posted": _("提出职工需求"),
    "projects.demand_seconded": _("附议职工需求"),
    "projects.demand_answered": _("答复职工需求"),
    "projects.demand_merged": _("合并职工需求"),
    "projects.demand_adopted": _("需求转为项目"),
    "projects.project_created": _("设计服务项目"),
    "projects.project_submitted": _("提交项目论证"),
    "projects.review_recused": _("评审回避"),
    "projects.project_library": _("评审同意入库"),
    "projects.project_returned": _("评审退回修改"),
    "projects.project_rejected": _("评审不予入库"),
    "projects.project_started": _("项目开始实施"),
    "projects.project_closed": _("项目实施结束"),
    "projects.project_evaluated": _("项目绩效评估"),
    "projects.session_created": _("安排活动场次"),
    "projects.milestone_added": _("添加进度节点"),
    "projects.milestone_done": _("进度节点完成"),
    "projects.signed_up": _("活动报名"),
    "projects.enrolment_cancelled": _("取消报名"),
    "projects.offer_made": _("候补递补"),
    "projects.offer_confirmed": _("确认候补名额"),
    "projects.offer_expired": _("候补确认超时"),
    "projects.checked_in": _("活动签到"),
    "projects.expense_recorded": _("记录项目支出"),
    "projects.overspend_requested": _("申请超支"),
    "projects.overspend_approved": _("批准超支"),
    "projects.overspend_rejected": _("驳回超支"),
    "projects.rated": _("评价活动"),
    "projects.result_filed": _("填报实施结果"),
    "projects.weights_set": _("设置绩效评估权重"),
    "projects.criteria_set": _("设置评审指标"),
}
AREAS = {"projects": _("服务项目")}
