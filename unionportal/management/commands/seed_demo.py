"""`manage.py seed_demo [--scale N]`: build (or complete) the Shanghai demo city.

It lives in unionportal, the wiring layer, because it composes every app's demo builder
(organisations first, then members); no app below may import the ones above it.
"""

import random

from django.core.management.base import BaseCommand, CommandError

from assistance.demo import seed_aid
from disputes.demo import seed_disputes
from members.demo import seed_members
from organizations.demo import DEMO_LOGINS, DEMO_PASSWORD, MAX_SCALE, DemoBuilder
from organizations.services import coverage_refresh
from projects.demo import seed_projects
from reports.summaries import statistics_refresh

LABELS = {
    "organizations": "工会组织",
    "enterprises": "企业",
    "officers": "工会干部",
    "stations": "服务站点",
    "users": "登录账号",
    "roles": "角色授权",
    "members": "会员",
    "applications": "入会申请",
    "transfers": "转接申请",
    "projects": "服务项目",
    "demands": "职工需求",
    "dispute_cases": "调解案件",
    "aid_files": "困难职工档案",
}


class Command(BaseCommand):
    help = (
        "建立上海演示数据：市总工会、16 个区总工会、街道（镇）、产业工会、园区、企业、基层工会、干部、服务站点和演示账号。"
        "可重复执行：只补建缺少的数据，已齐全时几秒内结束。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help=f"规模倍数（1–{MAX_SCALE}）：街道、企业和基层工会按倍数增加，用于性能测试。",
        )
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help=f"把演示账号的密码重置为 {DEMO_PASSWORD}（默认只为新建的账号设置密码）。",
        )

    def handle(self, *args, scale: int, reset_passwords: bool, verbosity: int, **options):
        if not 1 <= scale <= MAX_SCALE:
            raise CommandError(f"--scale 应在 1 到 {MAX_SCALE} 之间，当前为 {scale}。")
        log = self.stdout.write if verbosity > 1 else None
        created = DemoBuilder(scale=scale, reset_passwords=reset_passwords, log=log).run()
        seconds = created.pop("seconds", 0)
        created.update(seed_members(rng=random.Random(2026), scale=scale))
        created.update(seed_projects())

        created.update(seed_disputes(rng=random.Random(2612)))
        if created.get("members"):
            coverage_refresh()  # the summaries the builder made counted no members yet
        created.update(seed_aid())
        if any(created.values()):
            statistics_refresh()  # the dashboards' summary rows, so they show the demo at once
            parts = "、".join(f"{LABELS.get(k, k)} {v}" for k, v in created.items() if v)
            self.stdout.write(self.style.SUCCESS(f"演示数据已建立（规模 {scale}，用时 {seconds} 秒）：新建 {parts}。"))
        else:
            self.stdout.write(self.style.SUCCESS(f"演示数据已齐全，无需补建（用时 {seconds} 秒）。"))
        if verbosity:
            names = "、".join([*(login.username for login in DEMO_LOGINS), "worker"])
            self.stdout.write(f"演示账号：{names}；密码均为 {DEMO_PASSWORD}")
