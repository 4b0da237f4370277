"""README's webhook signature check works against what the webhook sink sends."""

from __future__ import annotations

import re

from monitor.settings import REPO_ROOT
from monitor.sinks.webhook import sign


def test_readme_signature_snippet_accepts_our_signature_and_rejects_tampering():
    readme = (REPO_ROOT / "README.md").read_text()
    (snippet,) = [block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "def verified" in block]
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 -- our own README
    verified = namespace["verified"]
    body, secret = b'{"id": "e3364f638e8b5919", "revision": 2}', b"k3y"
    assert verified(body, sign(secret, body), secret)
    assert not verified(body.replace(b"2", b"3"), sign(secret, body), secret)
    assert not verified(body, sign(b"other", body), secret)
