"""Photos and documents on orders, stored in S3. The web process never carries a file's bytes:
it hands out a presigned POST for the upload and presigned GETs for downloads, and records an
attachment (``order.attachment_added``) only once its object is in the bucket.

INTERFACE (filled in by the attachments work; the API and the admin call only this):

- ``UploadTicket``: ``upload_id``, ``url``, ``fields`` (the form fields to POST with the file,
  last the ``file``), ``expires_at``, ``max_bytes``, ``content_type``, ``filename``.
- ``AttachmentService.start_upload(*, order_id, filename, content_type, size, visibility,
  actor, author_name, integrator=None, redirect_to=None) -> UploadTicket``: checks the order
  (an integrator's own only), the name, the type against ``ATTACHMENT_CONTENT_TYPES`` and the
  size against ``ATTACHMENT_MAX_BYTES`` (400 naming the field), signs a POST whose policy
  fixes the key, the content type, the size range and who uploads it. ``redirect_to``: the
  URL S3 sends the browser to after the upload (the admin's finish view).
- ``AttachmentService.finish_upload(*, order_id, upload_id, actor, integrator=None)
  -> Attachment``: finds the uploaded object, checks its size and type again, moves it from
  ``uploads/`` to ``attachments/`` (server-side copy) and records it through
  ``OrderService.record_attachment``; the same upload finished twice returns the one
  attachment. ``UploadMissing`` if nothing was uploaded (yet); ``UploadNotFound`` (a 404) for
  an upload an integrator did not make itself; ``ValidationError`` on ``upload_id`` for a
  malformed id or an object of the wrong size or type (then deleted).
- ``AttachmentService.download_url(attachment, *, inline=False) -> str``: a short-lived
  presigned GET (``inline`` for image previews in the admin).
- ``portal.container.attachment_service()`` builds the process's service from settings.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from orders.domain.errors import DomainError, ValidationError
from orders.domain.model import Actor, ActorKind, Attachment, Visibility
from orders.domain.rules import clean_filename, visibility_for

#: Upload ids are the attachment ids: 32 hex digits (uuid4().hex), nothing a prefix can abuse.
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class UploadMissing(DomainError):
    """Nothing was uploaded (yet) under this upload id: the API's 409 ``upload-missing``."""

    def __init__(self, upload_id: str):
        self.upload_id = upload_id
        super().__init__(f"Nothing has been uploaded for upload {upload_id} (yet).")


class UploadNotFound(DomainError):
    """No upload of the caller's under this id (another author's counts as none): a 404."""

    def __init__(self, upload_id: str):
        self.upload_id = upload_id
        super().__init__(f"No upload {upload_id}.")


@dataclass(frozen=True)
class UploadTicket:
    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int
    content_type: str
    filename: str


def uploads_prefix(order_id: str) -> str:
    return f"uploads/{order_id}/"


def upload_prefix(order_id: str, upload_id: str) -> str:
    return f"{uploads_prefix(order_id)}{upload_id}/"


def upload_in_key(order_id: str, key: str) -> str | None:
    """The upload id of an object key under the order's ``uploads/`` prefix (what S3 names
    when it sends a browser back after an upload), or ``None``."""
    prefix = uploads_prefix(order_id)
    upload_id = key.removeprefix(prefix).split("/", 1)[0] if key.startswith(prefix) else ""
    return upload_id if UPLOAD_ID.match(upload_id) else None


def attachment_prefix(order_id: str, upload_id: str) -> str:
    return f"attachments/{order_id}/{upload_id}/"


def key_name(filename: str) -> str:
    """The filename as the last part of a key: plain ASCII (the real name is in metadata)."""
    return UNSAFE_KEY_CHARS.sub("_", filename).strip("._")[:100] or "file"


def content_disposition(filename: str, *, inline: bool) -> str:
    fallback = key_name(filename).replace('"', "")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class AttachmentService:
    """Presigned S3 uploads and downloads; records attachments through ``OrderService``."""

    def __init__(
        self,
        *,
        s3: Any,
        bucket: str,
        orders: Any,
        max_bytes: int,
        content_types: list[str],
        upload_expires: int,
        download_expires: int,
        clock: Any = lambda: datetime.now(UTC),
    ):
        self.s3, self.bucket, self.orders = s3, bucket, orders
        self.max_bytes = max_bytes
        self.content_types = list(content_types)
        self.upload_expires, self.download_expires = upload_expires, download_expires
        self.clock = clock

    # -- upload ---------------------------------------------------------------------------
    def start_upload(
        self,
        *,
        order_id: str,
        filename: Any,
        content_type: Any,
        size: Any,
        visibility: Any,
        actor: Actor,
        author_name: str,
        integrator: str | None = None,
        redirect_to: str | None = None,
    ) -> UploadTicket:
        """A form that lets the client POST one file straight to S3 under a fixed key."""
        order = self.orders.read.get_order(order_id, integrator=integrator)
        name = clean_filename(filename)
        if content_type not in self.content_types:
            raise ValidationError(
                {"content_type": [f"Use one of {', '.join(self.content_types)}."]}
            )
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= self.max_bytes:
            raise ValidationError(
                {"size": [f"Give the file's size in bytes, 1 to {self.max_bytes}."]}
            )
        chosen = visibility_for(actor, visibility)
        upload_id = uuid.uuid4().hex
        key = upload_prefix(order.id, upload_id) + key_name(name)
        fields = {
            "Content-Type": content_type,
            "x-amz-meta-author-kind": str(actor.kind),
            "x-amz-meta-author-id": quote(actor.id, safe=""),
            "x-amz-meta-author-name": quote(author_name, safe=""),
            "x-amz-meta-visibility": str(chosen),
            "x-amz-meta-filename": quote(name, safe=""),
        }
        if redirect_to:
            fields["success_action_redirect"] = redirect_to
        conditions: list[Any] = [{name: value} for name, value in fields.items()]
        conditions.append(["content-length-range", 1, self.max_bytes])
        signed = self.s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=self.upload_expires,
        )
        return UploadTicket(
            upload_id=upload_id,
            url=signed["url"],
            fields=signed["fields"],
            expires_at=self.clock() + timedelta(seconds=self.upload_expires),
            max_bytes=self.max_bytes,
            content_type=content_type,
            filename=name,
        )

    def finish_upload(
        self, *, order_id: str, upload_id: Any, actor: Actor, integrator: str | None = None
    ) -> Attachment:
        """Move the uploaded object to ``attachments/`` and record it (once)."""
        order = self.orders.read.get_order(order_id, integrator=integrator)
        if not isinstance(upload_id, str) or not UPLOAD_ID.match(upload_id):
            raise ValidationError({"upload_id": ["Give the upload_id of an upload form."]})
        existing = self.orders.read.attachment(order.id, upload_id)
        if existing is not None:
            self._check_author(existing.author, actor, upload_id)
            return existing
        key = self._first_key(upload_prefix(order.id, upload_id))
        if key is None:
            # Already moved by an earlier finish that did not get to record it.
            moved = self._first_key(attachment_prefix(order.id, upload_id))
            if moved is None:
                raise UploadMissing(upload_id)
            head = self.s3.head_object(Bucket=self.bucket, Key=moved)
            attachment = self._attachment(order.id, upload_id, moved, head)
            self._check_author(attachment.author, actor, upload_id)
        else:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
            uploaded = self._attachment(order.id, upload_id, key, head)
            self._check_author(uploaded.author, actor, upload_id)
            self._check_object(uploaded, key)
            target = attachment_prefix(order.id, upload_id) + key.rsplit("/", 1)[-1]
            self.s3.copy_object(
                Bucket=self.bucket,
                Key=target,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="COPY",
            )
            self.s3.delete_object(Bucket=self.bucket, Key=key)
            attachment = self._attachment(order.id, upload_id, target, head)
        return self.orders.record_attachment(attachment, integrator=integrator)

    def _first_key(self, prefix: str) -> str | None:
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        contents = listed.get("Contents") or []
        return contents[0]["Key"] if contents else None

    def _attachment(self, order_id: str, upload_id: str, key: str, head: dict) -> Attachment:
        meta = head.get("Metadata", {})
        try:
            author = Actor(ActorKind(meta.get("author-kind", "")), unquote(meta["author-id"]))
            visibility = Visibility(meta.get("visibility", ""))
        except (KeyError, ValueError):
            raise UploadNotFound(upload_id) from None  # not an object this service signed
        return Attachment(
            id=upload_id,
            order_id=order_id,
            key=key,
            filename=unquote(meta.get("filename", "")) or key.rsplit("/", 1)[-1],
            content_type=head.get("ContentType", ""),
            size=int(head.get("ContentLength", 0)),
            visibility=visibility,
            author=author,
            author_name=unquote(meta.get("author-name", "")),
            at=self.clock(),
        )

    @staticmethod
    def _check_author(author: Actor, actor: Actor, upload_id: str) -> None:
        if actor.kind is ActorKind.INTEGRATOR and author != actor:
            raise UploadNotFound(upload_id)

    def _check_object(self, uploaded: Attachment, key: str) -> None:
        """The policy should have refused these; the emulator (or a bug) may not have."""
        problems = []
        if not 1 <= uploaded.size <= self.max_bytes:
            problems.append(f"The file must be 1 to {self.max_bytes} bytes.")
        if uploaded.content_type not in self.content_types:
            problems.append(f"{uploaded.content_type!r} is not an allowed type.")
        if problems:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
            raise ValidationError({"upload_id": problems})

    # -- download -------------------------------------------------------------------------
    def browser_origins(self) -> list[str]:
        """The origins browsers send uploads to and fetch downloads from (signing is local:
        no request is made)."""
        post = self.s3.generate_presigned_post(Bucket=self.bucket, Key="probe")["url"]
        get = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "probe"}, ExpiresIn=60
        )
        origins = []
        for url in (post, get):
            parts = urlsplit(url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
        return origins

    def download_url(self, attachment: Attachment, *, inline: bool = False) -> str:
        """A presigned GET that names the file (``inline``: shown, not saved)."""
        return self.s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": attachment.key,
                "ResponseContentDisposition": content_disposition(
                    attachment.filename, inline=inline
                ),
                "ResponseContentType": attachment.content_type,
            },
            ExpiresIn=self.download_expires,
        )


__all__ = ["AttachmentService", "UploadMissing", "UploadNotFound", "UploadTicket"]
