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
  attachment. ``UploadMissing`` if nothing was uploaded (yet).
- ``AttachmentService.download_url(attachment, *, inline=False) -> str``: a short-lived
  presigned GET (``inline`` for image previews in the admin).
- ``attachment_service()``: the process's service, from settings.
"""
