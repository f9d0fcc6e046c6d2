"""The shared DRF kit: what every context's API does the same way, owned by none of them.

One module per job: problem documents and the error mapping by kind (``problems``), strict
input fields (``fields``), the JSON parser (``parsers``), the body size limits by route
(``limits``), ``Idempotency-Key`` with the store handed in (``idempotency``), versions as
ETags with ``If-Match`` and ``If-None-Match`` (``conditional``), next-page links
(``pagination``), output serializers that both render and document (``output``) and the
OpenAPI helpers (``openapi``). It may import ``kernel``, Django, DRF and drf-spectacular, and
no app: ``.importlinter`` (apikit-stands-alone) keeps it so.
"""
