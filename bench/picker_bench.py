"""Picker searches at city scale: the enterprise search and the organisation search.

Not a test. Read-only: runs the two search views in-process (RequestFactory, the real
view code and templates) for a city federation login and for a district clerk, with a
common term, a rare one and one that finds nothing, and reports p50/p95 per case.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/unionportal_bench_10000000 \\
        python bench/picker_bench.py --runs 20

Needs a city built by bench/generate.py (its `bench-city` login) or the demo (`city`).
Writes bench/results/pickers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("AXES_ENABLED", "0")

TERMS = {"common": "科技", "rare": "瑞康", "none": "没有这个名字"}


def _p(samples, q):
    s = sorted(samples)
    return round(s[min(len(s) - 1, int(len(s) * q))] * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    import django

    django.setup()
    from django.test import RequestFactory

    from organizations.models import Enterprise, Organization, OrgKind, RoleAssignment, User
    from organizations.views import enterprise_options, org_options

    city_user = User.objects.filter(username__in=["bench-city", "city"]).order_by("username").first()
    ra = RoleAssignment.objects.filter(organization__kind=OrgKind.DISTRICT, role="clerk").order_by("pk").first()
    clerk = ra.user if ra else None
    users = {"city": city_user, "district_clerk": clerk}
    factory = RequestFactory()
    results = {"enterprises": Enterprise.objects.count(), "organisations": Organization.objects.count()}
    for who, user in users.items():
        if user is None:
            continue
        for label, term in TERMS.items():
            for name, view, params in (
                ("enterprise", enterprise_options, {"q": term}),
                ("org_view", org_options, {"purpose": "view", "q": term}),
            ):
                samples = []
                for _ in range(args.runs):
                    request = factory.get("/", params)
                    request.user = user
                    request.htmx = False
                    start = time.perf_counter()
                    response = view(request)
                    samples.append(time.perf_counter() - start)
                    assert response.status_code == 200
                results[f"{name}_{who}_{label}_p50_ms"] = _p(samples, 0.5)
                results[f"{name}_{who}_{label}_p95_ms"] = _p(samples, 0.95)
    out = ROOT / "bench" / "results" / "pickers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
