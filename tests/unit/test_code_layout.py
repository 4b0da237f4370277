"""The code map holds: modules stay small unless they say why, and no import
cycles anywhere (the layer contracts themselves run in `make test` through
lint-imports, the linter through ruff; see pyproject.toml)."""

from __future__ import annotations

import grimp

from monitor.settings import REPO_ROOT

MAX_LINES = 500
REASON = "# Over 500 lines:"


def test_every_long_module_says_why_at_its_top():
    unexplained = []
    for path in sorted((REPO_ROOT / "monitor").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not lines[0].startswith(REASON):
            unexplained.append(f"{path.relative_to(REPO_ROOT)} ({len(lines)} lines)")
    assert not unexplained, f"over {MAX_LINES} lines without a '{REASON} ...' first line: {unexplained}"


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("monitor", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and graph.chain_exists(importer=imported, imported=module):
                cycles.append(" -> ".join(graph.find_shortest_chain(importer=imported, imported=module) or ()))
    assert not cycles, f"import cycles: {cycles[:5]}"
