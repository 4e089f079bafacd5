"""Files customers send on any channel: kept in the default storage, read back through signed refs."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.core import signing
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.urls import reverse

ATTACHMENT_SALT = "channels_ingress.attachment"


def safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name or "file")[-100:].lstrip(".") or "file"


def attachment_save(*, owner: str, name: str, content: File | bytes, size: int, content_type: str) -> dict[str, Any]:
    """Store a file; return its description with a signed ``ref`` and the ``url`` that serves it.

    ``owner`` (a visitor id, a mailbox) is signed into the ref so one
    visitor cannot send another visitor's file.
    """
    name = safe_filename(name)
    if isinstance(content, bytes):
        content = ContentFile(content)
    path = default_storage.save(f"channels/{owner}/{uuid.uuid4().hex}/{name}", content)
    ref = signing.dumps(
        {"o": owner, "p": path, "n": name, "s": size, "t": content_type}, salt=ATTACHMENT_SALT, compress=True
    )
    return {
        "ref": ref, "name": name, "size": size, "content_type": content_type, "path": path,
        "url": reverse("channels_ingress:attachment", args=[ref]),
    }


def attachment_ref_read(*, ref: str) -> dict[str, Any] | None:
    try:
        return signing.loads(ref, salt=ATTACHMENT_SALT)
    except signing.BadSignature:
        return None


def attachment_open(*, ref: str) -> tuple[File, dict[str, Any]] | None:
    """The stored file a signed ref names, or None for a bad ref."""
    data = attachment_ref_read(ref=ref)
    if data is None or not default_storage.exists(data["p"]):
        return None
    return default_storage.open(data["p"], "rb"), data
