"""The apps depend on each other only as ARCHITECTURE.md says (function-local imports included)."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["portal", "core", "home", "speeches", "campaigns", "merchants", "search"]
# What each app may import (besides itself). Keep in step with ARCHITECTURE.md.
ALLOWED = {
    "search": set(),
    "core": {"search"},
    "merchants": {"core", "search"},
    "campaigns": {"core", "search"},
    "speeches": {"core", "search"},
    "home": {"core", "search", "speeches", "campaigns", "merchants"},
    "portal": {"core", "home", "speeches", "campaigns", "merchants", "search"},
}


def imported_apps(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in APPS:
                yield top, node.lineno


def app_sources(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts:
            continue
        yield path


def test_every_app_is_listed():
    assert set(ALLOWED) == set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_app_imports_only_what_it_may(app):
    wrong = []
    for path in app_sources(app):
        for other, line in imported_apps(path):
            if other != app and other not in ALLOWED[app]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {other}")
    assert not wrong, "\n".join(wrong)


def test_app_dependencies_have_no_cycle():
    graph = {app: set() for app in APPS}
    for app in APPS:
        for path in app_sources(app):
            graph[app] |= {other for other, _ in imported_apps(path) if other != app}

    def visit(app, trail):
        assert app not in trail, " → ".join([*trail, app])
        for other in graph[app]:
            visit(other, [*trail, app])

    for app in APPS:
        visit(app, [])


def test_the_check_sees_function_local_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from speeches.models import SpeechPage\n", encoding="utf-8")
    assert list(imported_apps(source)) == [("speeches", 2)]
