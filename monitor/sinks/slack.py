"""Slack incoming-webhook formatting of an alert (``format: slack`` on a webhook sink).

``text`` is the notification fallback; ``blocks`` is the message (header,
summary, fields, evidence, article links, ids). Slack's limits are respected:
header 150 characters, section text 3000, at most 10 fields.
"""

from __future__ import annotations

from typing import Any

from monitor.models import Alert

_ICONS = {"critical": ":rotating_light:", "high": ":red_circle:", "medium": ":large_orange_circle:",
          "low": ":large_blue_circle:", "info": ":white_circle:"}


def escape(text: str) -> str:
    """Slack mrkdwn control characters (its docs: escape &, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(text, 3000)}


def slack_payload(alert: Alert) -> dict[str, Any]:
    sev = alert.severity.upper()
    icon = _ICONS.get(alert.severity, "")
    update = "" if alert.action == "new" else f" ({alert.action}, rev {alert.revision})"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(f"{sev}: {alert.title}{update}", 150)}},
    ]
    if alert.summary:
        blocks.append({"type": "section", "text": _mrkdwn(escape(alert.summary))})
    blocks.append({"type": "section", "fields": [
        _mrkdwn(f"*Rule*\n{escape(alert.rule_id)}"),
        _mrkdwn(f"*Severity*\n{icon} {sev}"),
        _mrkdwn(f"*Reports*\n{alert.corroboration}"),
        _mrkdwn(f"*Sources*\n{escape(', '.join(alert.sources) or '-')}"),
    ]})
    evidence = [f"> _{escape(e.type)} ({e.modality})_: {escape(e.evidence.sentence.strip()[:300])}"
                for e in alert.events[:3]]
    if evidence:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(evidence))})
    links = []
    for ref in alert.articles[-5:]:
        label = escape(ref.title or ref.url or ref.id).replace("|", "¦")
        if ref.url:
            url = ref.url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
            links.append(f"• <{url}|{label}> ({escape(ref.source)})")
        else:
            links.append(f"• {label} ({escape(ref.source)})")
    if links:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(links))})
    blocks.append({"type": "context", "elements": [_mrkdwn(
        f"alert `{alert.id}` rev {alert.revision} · {alert.action} · story `{alert.story_id or '-'}`")]})
    return {"text": f"{icon} [{sev}] {alert.title}{update}".strip(), "blocks": blocks}
