"""No app imports another app's pages: generic, so that a new app's views are covered too.

The layers themselves (and import cycles) are import-linter contracts in pyproject.toml;
this test holds the rule for any app, including ones the contracts do not name yet.
"""

import grimp

APPS = ("core", "organizations", "activity", "members", "assistance", "disputes", "projects", "reports", "unionportal")
WIRING = {"unionportal.urls"}


def _is_views(module: str) -> bool:
    parts = module.split(".")
    return "views" in parts or any(part.endswith("_views") for part in parts)


def test_it_finds_no_module_importing_another_apps_views():
    graph = grimp.build_graph(*APPS, cache_dir=None)
    offending = sorted(
        f"{importer} -> {imported}"
        for imported in graph.modules
        if _is_views(imported)
        for importer in graph.find_modules_that_directly_import(imported)
        if importer.split(".")[0] != imported.split(".")[0] and importer not in WIRING
    )
    assert offending == []


def test_the_check_sees_a_views_module():
    # Guards the test above against passing vacuously (a renamed package, an empty graph).
    graph = grimp.build_graph(*APPS, cache_dir=None)
    assert "members.views.roll" in graph.modules
    assert "core.pages" in graph.find_modules_directly_imported_by("members.views.roll")
