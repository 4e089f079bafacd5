"""The one HTTP client of the outbound adapters (standard library; no internet needed in tests)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from channels_ingress.exceptions import DeliveryFailed

TIMEOUT_SECONDS = 10
USER_AGENT = "contactcenter/1.0"


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: bytes

    def json(self) -> dict:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


def post(url: str, *, data: bytes, headers: dict[str, str]) -> HttpResult:
    """POST and return the answer; 5xx, 429 and network errors are retryable failures, other 4xx are final."""
    request = urllib.request.Request(url, data=data, method="POST", headers={"User-Agent": USER_AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return HttpResult(status=response.status, body=response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()[:500]
        retryable = exc.code >= 500 or exc.code == 429
        raise DeliveryFailed(f"HTTP {exc.code}: {body.decode(errors='replace')}", retryable=retryable) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"Could not reach {url}: {exc}", retryable=True) from exc
