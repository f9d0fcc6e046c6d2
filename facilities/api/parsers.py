"""The import's CSV body as text: UTF-8 only (another charset is a 415, bytes that are not
UTF-8 a 400), a byte-order mark dropped (spreadsheets write one), no NUL characters."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from apikit.parsers import declared_charset


class CsvTextParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context=None) -> str:
        charset = declared_charset(media_type)
        if charset not in (None, "utf-8"):
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=f"Send CSV in UTF-8 (charset {charset!r} is not supported).",
            )
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(
                f"The body is not valid UTF-8 (at byte {exc.start})."
            ) from None
        if "\x00" in text:
            raise exceptions.ParseError("The body holds a NUL character: send CSV text.")
        return text
