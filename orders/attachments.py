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
  fixes the key, the exact content type, the exact size and who uploads it. The form's
  metadata also carries what was announced and an HMAC of it (``x-amz-meta-ticket``), so that
  the finish step can tell a file sent with its form from one that was not. ``redirect_to``:
  the URL S3 sends the browser to after the upload (the admin's finish page).
- ``AttachmentService.finish_upload(*, order_id, upload_id, actor, integrator=None)
  -> Attachment``: finds the uploaded object and checks it against its signed form (its key,
  the announced size and type, stored before the form expired), copies it from ``uploads/``
  to ``attachments/`` (server-side copy), records it through ``OrderTimeline.record_attachment``
  and deletes the upload; the same upload finished twice returns the one attachment.
  ``UploadMissing`` if nothing was uploaded (yet); ``UploadNotFound`` (a 404) for an upload an
  integrator did not make itself; ``ValidationError`` on ``upload_id`` for a malformed id, or
  an object the policy should have refused (then deleted): real S3 enforces the policy, an
  emulator may not, and a policy can be wrong.
- ``AttachmentService.download_url(attachment, *, inline=False) -> str``: a short-lived
  presigned GET (``inline`` for image previews in the admin).
- ``portal.container.attachment_service()`` builds the process's service from settings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from botocore.exceptions import ClientError

from orders.domain.errors import DomainError, ValidationError
from orders.domain.model import Actor, ActorKind, Attachment, Visibility
from orders.domain.rules import clean_filename, visibility_for
from orders.selectors import OrderSelector
from orders.services.timeline import OrderTimeline

#: Upload ids are the attachment ids: 32 hex digits (uuid4().hex), nothing a prefix can abuse.
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
#: The metadata an upload form fixes (``x-amz-meta-<name>``), all signed by its ticket: who
#: uploads, as what, and what was announced (type, size) until when (``expires``, epoch s).
SIGNED_METADATA = (
    "author-kind",
    "author-id",
    "author-name",
    "visibility",
    "filename",
    "type",
    "size",
    "expires",
)
#: How long after its form expired an object may be dated: S3 dates an object when it has
#: all of it, after the policy let the upload start; and the clocks differ a little.
UPLOAD_GRACE = timedelta(minutes=5)
#: Objects read under one upload's prefix: its file and whatever else was sent there.
LISTED_MAX = 20


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
class SignedForm:
    """What an upload's form announced, read back from an object whose ticket checks out."""

    content_type: str
    size: int
    expires: datetime


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
    """Presigned S3 uploads and downloads; records attachments on the order's timeline."""

    def __init__(
        self,
        *,
        s3: Any,
        bucket: str,
        timeline: OrderTimeline,
        read: OrderSelector,
        max_bytes: int,
        content_types: list[str],
        upload_expires: int,
        download_expires: int,
        signing_key: str | bytes,
        clock: Any = lambda: datetime.now(UTC),
    ):
        self.s3, self.bucket = s3, bucket
        self.timeline, self.read = timeline, read
        self.max_bytes = max_bytes
        self.content_types = list(content_types)
        self.upload_expires, self.download_expires = upload_expires, download_expires
        secret = signing_key.encode() if isinstance(signing_key, str) else signing_key
        # A key of its own: a ticket is no use as any other of the secret's signatures.
        self._ticket_key = hashlib.sha256(b"orders.attachments.upload-ticket:" + secret).digest()
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
        """A form that lets the client POST one file, of exactly the announced size and type,
        straight to S3 under a fixed key."""
        order = self.read.get_order(order_id, integrator=integrator)
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
        expires_at = self.clock() + timedelta(seconds=self.upload_expires)
        metadata = {
            "author-kind": str(actor.kind),
            "author-id": quote(actor.id, safe=""),
            "author-name": quote(author_name, safe=""),
            "visibility": str(chosen),
            "filename": quote(name, safe=""),
            "type": content_type,
            "size": str(size),
            "expires": str(int(expires_at.timestamp())),
        }
        metadata["ticket"] = self._ticket(key, metadata)
        fields = {"Content-Type": content_type}
        fields.update({f"x-amz-meta-{field}": value for field, value in metadata.items()})
        if redirect_to:
            fields["success_action_redirect"] = redirect_to
        # boto3 adds the bucket and the exact key; every field is an exact match too.
        conditions: list[Any] = [{field: value} for field, value in fields.items()]
        conditions.append(["content-length-range", size, size])
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
            expires_at=expires_at,
            max_bytes=self.max_bytes,
            content_type=content_type,
            filename=name,
        )

    def finish_upload(
        self, *, order_id: str, upload_id: Any, actor: Actor, integrator: str | None = None
    ) -> Attachment:
        """Check the uploaded object against its form, copy it to ``attachments/`` and record
        it (once). The upload is deleted only once recorded, so a retry finds it again."""
        order = self.read.get_order(order_id, integrator=integrator)
        if not isinstance(upload_id, str) or not UPLOAD_ID.match(upload_id):
            raise ValidationError({"upload_id": ["Give the upload_id of an upload form."]})
        existing = self._recorded(order.id, upload_id, actor)
        if existing is not None:
            return existing
        found = self._uploaded(order.id, upload_id)
        if found is None:  # finished meanwhile by another request, or never uploaded
            return self._recorded_or_missing(order.id, upload_id, actor)
        key, head, form = found
        uploaded = self._attachment(order.id, upload_id, key, head)
        self._check_author(uploaded.author, actor, upload_id)
        self._check_object(uploaded, head, form)
        attachment = replace(
            uploaded, key=attachment_prefix(order.id, upload_id) + key.rsplit("/", 1)[-1]
        )
        try:
            self.s3.copy_object(
                Bucket=self.bucket,
                Key=attachment.key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="COPY",
            )
        except ClientError as exc:
            if not _missing(exc):
                raise
            return self._recorded_or_missing(order.id, upload_id, actor)
        recorded = self.timeline.record_attachment(attachment, integrator=integrator)
        self.s3.delete_object(Bucket=self.bucket, Key=key)
        return recorded

    def _recorded(self, order_id: str, upload_id: str, actor: Actor) -> Attachment | None:
        existing = self.read.attachment(order_id, upload_id)
        if existing is not None:
            self._check_author(existing.author, actor, upload_id)
        return existing

    def _recorded_or_missing(self, order_id: str, upload_id: str, actor: Actor) -> Attachment:
        existing = self._recorded(order_id, upload_id, actor)
        if existing is None:
            raise UploadMissing(upload_id)
        return existing

    def _uploaded(self, order_id: str, upload_id: str) -> tuple[str, dict, SignedForm] | None:
        """The object sent with the upload's form, if any. Only ``uploads/<order>/<upload>/``
        is looked at (never ``attachments/``, which only this service writes); whatever else
        is there did not come with the form (a key of its own, or fields other than signed)
        and is deleted. ``None`` when nothing is there."""
        listed = self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix=upload_prefix(order_id, upload_id), MaxKeys=LISTED_MAX
        )
        found, strays = None, []
        for item in listed.get("Contents") or []:
            key = item["Key"]
            try:
                head = self.s3.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if not _missing(exc):
                    raise
                continue  # deleted meanwhile: a finish that got there first
            form = self._signed_form(key, head)
            if found is None and form is not None:
                found = (key, head, form)
            else:
                strays.append(key)
        for key in strays:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        if found is None and strays:
            raise ValidationError(
                {
                    "upload_id": [
                        f"The file sent for upload {upload_id} did not come with its upload "
                        "form: it was sent to another key, or with other fields than the "
                        "form's. It was deleted and nothing was attached; ask for a new form."
                    ]
                }
            )
        return found

    def _ticket(self, key: str, metadata: dict[str, str]) -> str:
        """The HMAC over the bucket, the key and the signed metadata of one upload's form."""
        signed = [self.bucket, key, *(metadata[name] for name in SIGNED_METADATA)]
        message = json.dumps(signed, separators=(",", ":")).encode()
        return hmac.new(self._ticket_key, message, hashlib.sha256).hexdigest()

    def _signed_form(self, key: str, head: dict) -> SignedForm | None:
        """What the object's form announced, if the object is under its form's key with the
        form's metadata; ``None`` for anything else (what the policy should have refused)."""
        metadata = {name.lower(): value for name, value in head.get("Metadata", {}).items()}
        if any(name not in metadata for name in (*SIGNED_METADATA, "ticket")):
            return None
        if not hmac.compare_digest(self._ticket(key, metadata), metadata["ticket"]):
            return None
        return SignedForm(
            content_type=metadata["type"],
            size=int(metadata["size"]),
            expires=datetime.fromtimestamp(int(metadata["expires"]), UTC),
        )

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

    def _check_object(self, uploaded: Attachment, head: dict, form: SignedForm) -> None:
        """The policy should have refused these; the emulator (or a bug) may not have."""
        problems = []
        if uploaded.size != form.size:
            problems.append(
                f"The file has {uploaded.size} bytes; its upload form announced {form.size}."
            )
        if uploaded.content_type != form.content_type:
            problems.append(
                f"The file was sent as {uploaded.content_type!r}; its upload form announced "
                f"{form.content_type!r}."
            )
        if not 1 <= uploaded.size <= self.max_bytes:
            problems.append(f"The file must be 1 to {self.max_bytes} bytes.")
        if uploaded.content_type not in self.content_types:
            problems.append(f"{uploaded.content_type!r} is not an allowed type.")
        stored = head.get("LastModified")
        if stored is not None and stored > form.expires + UPLOAD_GRACE:
            problems.append(
                f"The file arrived at {stored.isoformat()}, after its upload form expired "
                f"at {form.expires.isoformat()}."
            )
        if problems:
            self.s3.delete_object(Bucket=self.bucket, Key=uploaded.key)
            problems.append("It was deleted and nothing was attached; ask for a new form.")
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


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey")


__all__ = ["AttachmentService", "UploadMissing", "UploadNotFound", "UploadTicket"]
