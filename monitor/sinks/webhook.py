"""Webhook sink: POST each alert as JSON, signed with HMAC-SHA256.

Headers: ``X-Newsmon-Alert-Id``, ``X-Newsmon-Alert-Revision`` and, with a
secret, ``X-Newsmon-Signature: sha256=<hex HMAC-SHA256 of the body>``, so a
receiver can check that the body came from us, unaltered. Delivery is
at-least-once: receivers dedupe by alert id and revision.

2xx is delivered. 408, 425, 429 and 5xx, timeouts and connection errors are
retried (honouring ``Retry-After``); any other status (a 3xx is not followed:
it would turn the POST into a GET) is permanent and dead-letters at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlsplit

import aiohttp

from monitor.models import Alert
from monitor.settings.sinks import WebhookSinkConfig
from monitor.sinks.base import DeliveryError, PermanentDeliveryError, Sink
from monitor.sinks.slack import slack_payload

SIGNATURE_HEADER = "X-Newsmon-Signature"
RETRYABLE = frozenset({408, 425, 429})


def sign(secret: bytes, body: bytes) -> str:
    """The X-Newsmon-Signature value for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: use our own backoff


class WebhookSink(Sink):
    config: WebhookSinkConfig

    def __init__(self, config: WebhookSinkConfig) -> None:
        super().__init__(config)
        self._session: aiohttp.ClientSession | None = None
        self._key: bytes | None = None
        self._url = config.url.get_secret_value()

    def check(self) -> None:
        self._key = self.config.signing_key()  # a missing secret_env fails here, at start

    async def open(self) -> None:
        self.check()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def body(self, alert: Alert, raw: bytes) -> bytes:
        if self.config.format == "slack":
            return json.dumps(slack_payload(alert)).encode()
        return raw  # the alert exactly as on the topic: fields added later pass through

    async def deliver(self, alert: Alert, raw: bytes) -> None:
        assert self._session is not None, "open() first"
        body = self.body(alert, raw)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "newsmon-webhook",
            "X-Newsmon-Alert-Id": alert.id,
            "X-Newsmon-Alert-Revision": str(alert.revision),
            **self.config.headers,
        }
        if self._key is not None:
            headers[SIGNATURE_HEADER] = sign(self._key, body)
        host = urlsplit(self._url).hostname  # never the full URL: it may hold a token
        try:
            async with self._session.post(self._url, data=body, headers=headers, allow_redirects=False) as resp:
                if 200 <= resp.status < 300:
                    return
                detail = (await resp.text(errors="replace"))[:200].strip()
                reason = f"HTTP {resp.status} from {host}" + (f": {detail}" if detail else "")
                if resp.status in RETRYABLE or resp.status >= 500:
                    raise DeliveryError(reason, _retry_after(resp.headers.get("Retry-After")))
                raise PermanentDeliveryError(reason)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"{type(exc).__name__} posting to {host}" + (f": {exc}" if str(exc) else "")) from exc
