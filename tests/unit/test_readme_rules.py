"""Every rule file shown in README.md passes `newsmon rules check`, inline tests included."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.settings import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
RULE_BLOCKS = [b for b in re.findall(r"```yaml\n(.*?)```", README, re.S) if "\nrules:" in "\n" + b]


def test_readme_has_rule_examples():
    assert len(RULE_BLOCKS) >= 2
    cookbook = max(RULE_BLOCKS, key=len)
    assert cookbook.count("- id:") >= 8


@pytest.mark.parametrize("block", RULE_BLOCKS, ids=lambda b: b.split("- id: ")[1].split()[0])
def test_readme_rule_block_is_valid(tmp_path, block):
    rules = tmp_path / "rules"
    shutil.copytree(REPO_ROOT / "rules" / "watchlists", rules / "watchlists")
    (rules / "example.yaml").write_text(block, encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "check", str(rules)])
    assert result.exit_code == 0, result.output
