"""Print bench/results/latest.json as the markdown tables of the README's Performance section.

python bench/summarize.py [bench/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, result key, unit); p50/p95 pairs are shown as "p50 / p95".
ROWS = [
    ("Lookup by ID number (blind index)", "lookup_id", "ms"),
    ("Lookup by mobile (blind index)", "lookup_mobile", "ms"),
    ("District list, first page", "list_first_page", "ms"),
    ("District list, page 200 — keyset", "list_page200_keyset", "ms"),
    ("District list, page 200 — OFFSET", "list_page200_offset", "ms"),
    ("District list, middle of the roll — keyset", "list_middle_keyset", "ms"),
    ("District list, middle of the roll — OFFSET", "list_middle_offset", "ms"),
    ("List narrowed to a street, first page", "list_street_first_page", "ms"),
    ("Member list API view, first page (in-process)", "api_list_first_page", "ms"),
    ("Member list API view, middle page (in-process)", "api_list_middle_page", "ms"),
    ("Name search in the district (2 characters)", "search_name", "ms"),
    ("Surname-only search in the district", "search_surname", "ms"),
    ("Pinyin-initials search in the district", "search_initials", "ms"),
    ("One-letter initials search in the district", "search_initials_letter", "ms"),
    ("Initials search, the next page (keyset)", "search_initials_next_page", "ms"),
    ("Name search narrowed to a street", "search_street_name", "ms"),
    ("Initials search narrowed to a street", "search_street_initials", "ms"),
    ("Initials search city-wide (city login)", "search_city_initials", "ms"),
    ("City dashboard — CoverageSummary", "dashboard_city_summary", "ms"),
    ("City dashboard — live COUNT(*)", "dashboard_city_live", "ms"),
    ("District dashboard — CoverageSummary", "dashboard_district_summary", "ms"),
    ("District dashboard — live COUNT(*)", "dashboard_district_live", "ms"),
]
SINGLE = [
    ("City monthly report (median of 3)", "report_city_s", "s"),
    ("Roster import, portal (median of 3, 100k rows)", "import_portal_rows_per_s", "rows/s"),
    ("Roster import, django-import-export (same file)", "import_die_rows_per_s", "rows/s"),
    ("Portal ÷ django-import-export", "import_portal_over_die", "×"),
    ("Import time, 100k rows ÷ 20k rows", "import_time_ratio_5x_rows", "×"),
    ("Member list API over HTTP (gunicorn)", "http_rps", "req/s"),
    ("… latency p50 / p95", ("http_p50_ms", "http_p95_ms"), "ms"),
    ("… web workers' CPU per request", "http_web_cpu_ms_per_request", "ms"),
    ("Web worker peak RSS (VmHWM)", "http_worker_peak_rss_mb", "MB"),
]


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def tables(report: dict) -> str:
    scales = sorted(report["scales"], key=int)
    head = "| | " + " | ".join(f"{int(s):,} members" for s in scales) + " |"
    sep = "|---|" + "---|" * len(scales)
    lines = [head, sep]
    for label, key, unit in ROWS:
        cells = []
        for s in scales:
            r = report["scales"][s]
            cells.append(f"{_fmt(r.get(key + '_p50_ms'))} / {_fmt(r.get(key + '_p95_ms'))}")
        lines.append(f"| {label} (p50 / p95, {unit}) | " + " | ".join(cells) + " |")
    for label, key, unit in SINGLE:
        cells = []
        for s in scales:
            r = report["scales"][s]
            if isinstance(key, tuple):
                cells.append(" / ".join(_fmt(r.get(k)) for k in key))
            else:
                cells.append(_fmt(r.get(key)))
        lines.append(f"| {label} ({unit}) | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| scale | organisations | enterprises | database | built in | machine load (1-min, median) |")
    lines.append("|---|---|---|---|---|---|")
    for s in scales:
        r = report["scales"][s]
        lines.append(
            f"| {int(s):,} | {r['organizations']:,} | {r['enterprises']:,} | {r['database_gb']} GB "
            f"| {r['generate_s']:.0f} s ({r['generate_members_per_s']:,}/s) | {r.get('loadavg_1m_median', '—')} |"
        )
    lines.append("")
    lines.append(f"Targets at {report['scale']:,} members:")
    lines.append("")
    for t in report["targets"].values():
        mark = {True: "met", False: "**not met**", None: "not measured"}[t["met"]]
        lines.append(f"- {t['label']}: {_fmt(t['value'])} (target {t['target']}) — {mark}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else ROOT / "bench" / "results" / "latest.json"
    print(tables(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
