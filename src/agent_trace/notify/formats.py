"""An alert as the JSON each receiver expects (a small registry of named
functions, like the lint rules).

* ``slack``: an incoming-webhook message (``text`` fallback plus Block Kit
  blocks).  ``&``, ``<`` and ``>`` are escaped, so text from the agent cannot
  ping a channel (``<!channel>``) or forge a link.
* ``teams``: a Microsoft Teams message carrying one Adaptive Card, as Teams
  Workflows ("when a Teams webhook request is received") and incoming
  webhooks accept it; Markdown links in the text are broken up.
* ``json``: the alert itself, for any other receiver.
* ``text``: two lines for a desktop notification.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SLACK_TEXT_MAX = 2900  # Slack: 3,000 characters per section text


def _slack_escape(s) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def slack(alert: dict) -> dict:
    head = f"agent-strace: {alert['title']}"
    body = f"*{_slack_escape(head)}*"
    if alert.get("reason"):
        body += f"\n{_slack_escape(alert['reason'])}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": _fit(body, SLACK_TEXT_MAX)}}]
    facts = [f"*{_slack_escape(k)}*\n{_slack_escape(v)}" for k, v in alert.get("facts") or []][:10]
    if facts:
        blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": _fit(f, 1900)} for f in facts]})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": _fit(f"`{_slack_escape(alert['command'])}`", SLACK_TEXT_MAX)}]})
    return {"text": _fit(_slack_escape(head), SLACK_TEXT_MAX), "blocks": blocks}


def _teams_text(s) -> str:
    """Adaptive Card text renders Markdown links: break ``[text](url)`` so
    text from the agent cannot become a link."""
    return str(s).replace("](", "]\u200b(")


def teams(alert: dict) -> dict:
    body = [{"type": "TextBlock", "text": _teams_text(f"agent-strace: {alert['title']}"), "weight": "Bolder",
             "size": "Medium", "wrap": True}]
    if alert.get("reason"):
        body.append({"type": "TextBlock", "text": _teams_text(alert["reason"]), "wrap": True})
    if alert.get("facts"):
        body.append({"type": "FactSet", "facts": [{"title": _teams_text(k), "value": _teams_text(v)}
                                                  for k, v in alert["facts"]]})
    body.append({"type": "TextBlock", "text": _teams_text(alert["command"]), "fontType": "Monospace", "wrap": True,
                 "isSubtle": True})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


def generic(alert: dict) -> dict:
    return {"source": "agent-strace", "version": 1,
            "alert": {k: v for k, v in alert.items() if k != "target"}}


def text(alert: dict) -> tuple[str, str]:
    """(summary, body) for notify-send."""
    body = "\n".join(x for x in (alert.get("reason"), alert["command"]) if x)
    return f"agent-strace: {alert['title']}", body


FORMATS = {"slack": slack, "teams": teams, "json": generic}


def payload(alert: dict, fmt: str) -> dict:
    return FORMATS[fmt](alert)
