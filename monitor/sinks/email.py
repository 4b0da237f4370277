"""Email sink over SMTP (aiosmtplib, the optional `email` extra).

One message per alert revision: a plain-text body (the same block as
`newsmon alerts tail`, plus article links) and the alert JSON attached, with
``X-Newsmon-Alert-Id`` / ``X-Newsmon-Alert-Revision`` headers for filtering and
deduplication. SMTP 5xx replies (bad address, authentication refused) are
permanent and dead-letter at once; 4xx replies and connection errors are retried.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from monitor.alerts.tail import format_alert
from monitor.models import Alert
from monitor.settings.sinks import EmailSinkConfig
from monitor.sinks.base import DeliveryError, PermanentDeliveryError, Sink


def build_message(config: EmailSinkConfig, alert: Alert, raw: bytes) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = config.subject.format_map({
        "severity": alert.severity.upper(), "title": alert.title, "rule_id": alert.rule_id,
        "alert_id": alert.id, "action": alert.action, "revision": alert.revision,
    })
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="newsmon")
    msg["X-Newsmon-Alert-Id"] = alert.id
    msg["X-Newsmon-Alert-Revision"] = str(alert.revision)
    links = [f"  {ref.url}" for ref in alert.articles if ref.url]
    body = format_alert(alert) + ("\n\nArticles:\n" + "\n".join(links) if links else "") + "\n"
    msg.set_content(body)
    msg.add_attachment(raw, maintype="application", subtype="json", filename=f"alert-{alert.id}.json")
    return msg


class EmailSink(Sink):
    config: EmailSinkConfig

    def __init__(self, config: EmailSinkConfig) -> None:
        super().__init__(config)
        self._password: str | None = None

    def check(self) -> None:
        try:
            import aiosmtplib  # noqa: F401
        except ImportError:
            raise ImportError("email sinks need aiosmtplib: pip install 'newsmon[email]'") from None
        self._password = self.config.smtp_password()

    async def open(self) -> None:
        self.check()

    async def deliver(self, alert: Alert, raw: bytes) -> None:
        import aiosmtplib

        cfg = self.config
        try:
            await aiosmtplib.send(
                build_message(cfg, alert, raw), hostname=cfg.host, port=cfg.port,
                username=cfg.username, password=self._password, timeout=cfg.timeout,
                use_tls=cfg.tls == "tls", start_tls={"auto": None, "starttls": True}.get(cfg.tls, False),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            error = PermanentDeliveryError if all(c >= 500 for c in codes) else DeliveryError
            raise error(f"SMTP {cfg.host}: recipients refused: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            error = PermanentDeliveryError if exc.code >= 500 else DeliveryError
            raise error(f"SMTP {cfg.host}: {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}") from exc
