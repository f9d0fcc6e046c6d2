"""What the attachments API answers (``attachment_views``): a file as events carry it, the
same with a download link, and the upload form; output serializers as in ``output``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from apikit.output import OutputSerializer, TimestampField
from orders.domain.model import Attachment

from .choices import VISIBILITY_CHOICES
from .output import AuthorOutputSerializer


class FileOutputSerializer(OutputSerializer):
    # A file's own fields, rendered from an Attachment: events carry these, the API adds a
    # download link. No docstring: it would describe both components.
    id = serializers.CharField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(min_value=1)
    visibility = serializers.ChoiceField(choices=VISIBILITY_CHOICES)
    author = AuthorOutputSerializer(source="*")
    at = TimestampField()


class EventAttachmentOutputSerializer(FileOutputSerializer):
    """A file as events carry it: what it is, not where it is (ask the API for a download)."""

    class Meta:
        ref_name = "EventAttachment"


class AttachmentOutputSerializer(FileOutputSerializer):
    download_url = serializers.URLField(help_text="A presigned GET, valid for a few minutes.")

    def resolve_download_url(self, attachment: Attachment, context: Mapping[str, Any]) -> str:
        # The attachment service's presigner, handed in by the view.
        return context["download_url"](attachment)

    class Meta:
        ref_name = "Attachment"


class AttachmentPageOutputSerializer(OutputSerializer):
    order_id = serializers.CharField()
    results = AttachmentOutputSerializer(many=True)

    class Meta:
        ref_name = "AttachmentPage"


class UploadTicketOutputSerializer(OutputSerializer):
    upload_id = serializers.CharField()
    url = serializers.URLField(help_text="POST the form here (multipart/form-data).")
    fields = serializers.DictField(
        child=serializers.CharField(),
        help_text="The form fields to send, in this order, followed by the `file` field last.",
    )
    expires_at = TimestampField()
    max_bytes = serializers.IntegerField()

    class Meta:
        ref_name = "UploadTicket"
