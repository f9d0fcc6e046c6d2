"""Settings, all from the environment (12-factor). Every name is documented in the README.

Defaults are safe for a laptop: SQLite for Django's own tables and no debug pages. The AWS
endpoint is unset by default, which means real AWS; ``make run`` and the tests point it at
the moto emulator on loopback.
"""

import logging
import os
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from aws import resources
from portal.logs import logging_config
from portal.settings_limits import check_range, env_float, env_int, parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = BASE_DIR / ".state"

env = environ.Env()

INSECURE_DEV_SECRET_KEY = "django-insecure-local-development-only-never-use-in-production"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
#: Origins the admin's forms may be posted from, e.g. https://portal.example.com (needed when
#: TLS ends at a load balancer and the browser's Origin differs from what Django sees).
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
#: Behind a load balancer that terminates TLS and sets X-Forwarded-Proto (ALB, ingress-nginx):
#: trust it, so Django knows the request was HTTPS. Only where every request comes through it.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
#: Proxies in front of the web server that append the client's address to X-Forwarded-For
#: (an ALB: 1). The admin's login throttle uses the address that many entries from the right;
#: 0 = X-Forwarded-For is ignored and the connection's address is the client's.
TRUSTED_PROXY_COUNT = env_int(env, "TRUSTED_PROXY_COUNT", 0, low=0)
#: Send session and CSRF cookies over HTTPS only (turn on wherever the site is served by TLS).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
#: Seconds browsers remember to reach the site over HTTPS only (Strict-Transport-Security, sent
#: on HTTPS responses). 0 = no header, the local default. Where TLS serves every request, start
#: small (300), then raise it to a year (31536000); the other two add the header's options.
SECURE_HSTS_SECONDS = env_int(env, "SECURE_HSTS_SECONDS", 0, low=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
#: Content-Security-Policy of every response (portal/security_middleware.py): scripts, style
#: sheets and fetches from this site only; no inline scripts or styles. Empty = no header.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",  # Django's admin, with failed logins throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's assets served from our own static files: /v1/docs works offline.
    "drf_spectacular_sidecar",
    "orders",
    "integrators",
    "webhooks",
    "operations",
    "facilities",
    "maintenance",
    "workers",
]

MIDDLEWARE = [
    # Request id, metrics by route and one structured log line per request: first, so it
    # sees everything, probes included.
    "portal.request_middleware.RequestContextMiddleware",
    "portal.health.HealthCheckMiddleware",  # probes first: no host check, no session
    "django.middleware.security.SecurityMiddleware",
    "portal.security_middleware.ContentSecurityPolicyMiddleware",
    # Serves the admin's static files from the same process: one image, no separate server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apikit.limits.BodySizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.staff_timezone.StaffTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Logs out a staff session idle for ADMIN_IDLE_TIMEOUT_SECONDS (after messages: it says why).
    "portal.admin_site.AdminIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{STATE_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that worker and web processes started by the end-to-end tests
    # share the test database; WAL and a busy timeout let those processes read concurrently.
    # One file per test run, so that two runs on one machine never share (or delete) it.
    # Transactions take the write lock when they begin (IMMEDIATE): a deferred one that read
    # first and then writes (select_for_update + update) fails at once with "database is
    # locked" when another connection wrote meanwhile; an immediate one waits its turn.
    DATABASES["default"]["TEST"] = {"NAME": str(STATE_DIR / f"test-{os.getpid()}.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
#: Seconds a connection is kept for reuse (0: one per request). The chart and the ECS stack set
#: 60 for PostgreSQL; a kept connection is checked before each reuse, so a restarted database
#: costs one failed check, not a failed request.
DATABASES["default"]["CONN_MAX_AGE"] = env_int(env, "CONN_MAX_AGE", 0, low=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] > 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
#: The admin's date formats (portal/formats): to the second, with the zone shown.
FORMAT_MODULE_PATH = ["portal.formats"]
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(STATE_DIR / "static"))
# The site's own files (its icon); the apps' are found in their static/ folders.
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
# Hashed, compressed, cacheable static files once collectstatic has run (make run, the
# image); before that (tests, a quick manage.py command) plain names, so pages still render.
# collectstatic itself must run with the manifest storage, or it never writes the manifest.
_COLLECTED = (Path(STATIC_ROOT) / "staticfiles.json").exists() or sys.argv[1:2] == ["collectstatic"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

#: Requests per integrator (all its keys together), as DRF rates: "<n>/second|minute|hour|day".
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="1200/minute")
parse_rate(API_RATE_LIMIT, "API_RATE_LIMIT")  # a typo stops the start, not every request
#: Failed API key look-ups per client address within the window (seconds) before the address
#: gets 429 without another look-up; keys that worked lately still pass. Counted in CACHES.
API_AUTH_MAX_FAILURES = env_int(env, "API_AUTH_MAX_FAILURES", 20, low=1)
API_AUTH_FAILURE_WINDOW_SECONDS = env_int(env, "API_AUTH_FAILURE_WINDOW_SECONDS", 300, low=1)
#: Largest request body accepted, in bytes; larger ones get 413 before they are parsed.
API_MAX_BODY_BYTES = env_int(env, "API_MAX_BODY_BYTES", 64 * 1024, low=1)
#: Sites one import may bring (POST /v1/sites/import, CSV or JSON); more is a 413: split it.
SITES_IMPORT_MAX_ROWS = env_int(env, "SITES_IMPORT_MAX_ROWS", 5000, low=1, high=50_000)
#: Largest body of a sites import, in bytes (a 5,000-row CSV is about 1 MiB).
SITES_IMPORT_MAX_BODY_BYTES = env_int(
    env, "SITES_IMPORT_MAX_BODY_BYTES", 4 * 1024 * 1024, low=1, high=64 * 1024 * 1024
)
#: The routes whose bodies may be larger than API_MAX_BODY_BYTES: batches (apikit.limits).
API_BODY_LIMITS = {"/v1/sites/import": SITES_IMPORT_MAX_BODY_BYTES}
# Bodies sent without a length (chunked) are cut off at their route's limit (portal.wsgi), and
# Django reads none larger than the largest of them (the middleware holds each route to its own).
DATA_UPLOAD_MAX_MEMORY_SIZE = max(API_MAX_BODY_BYTES, *API_BODY_LIMITS.values())
#: How long an Idempotency-Key is remembered, in seconds.
IDEMPOTENCY_TTL_SECONDS = env_int(env, "IDEMPOTENCY_TTL_SECONDS", 24 * 3600, low=1)
#: How long a request with an Idempotency-Key holds its key while it runs: a retry after this
#: takes over the claim of a request whose process died. Keep it above WEB_TIMEOUT (30 s).
IDEMPOTENCY_LEASE_SECONDS = env_float(env, "IDEMPOTENCY_LEASE_SECONDS", 35.0, low=1.0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrators.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["integrators.authentication.IsIntegrator"],
    "DEFAULT_THROTTLE_CLASSES": ["integrators.authentication.IntegratorRateThrottle"],
    "UNAUTHENTICATED_USER": None,
    # The client's address for DRF (anonymous throttling) by the same rule as the admin's
    # login throttle: X-Forwarded-For only as far as TRUSTED_PROXY_COUNT proxies wrote it.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # UTF-8 only, bounded nesting, storable text: apikit/parsers.py.
    "DEFAULT_PARSER_CLASSES": ["apikit.parsers.StrictJSONParser"],
    # Problem documents, errors mapped by kind (kernel.errors) and by what each API registers.
    "EXCEPTION_HANDLER": "apikit.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

#: The OpenAPI contract (/v1/schema, /v1/docs; checked-in copy: docs/openapi.yaml, `make schema`).
#: The Bearer security scheme comes from orders/api/openapi.py (ApiKeyAuthentication's extension).
SPECTACULAR_SETTINGS = {
    "TITLE": "Work-order portal API",
    "VERSION": "1",
    "DESCRIPTION": (
        "Integrators submit work orders, follow them through their lifecycle and move them "
        "(cancel, start, complete). Every request needs an API key: `Authorization: Bearer "
        "<key>`. Errors are RFC 9457 problem documents (`application/problem+json`) whose "
        "`errors` member names each bad field. Bodies are JSON in UTF-8 (another charset is "
        "415), nested at most 32 levels; strings must be valid Unicode without NUL characters. "
        "Besides the statuses each operation lists, any request may get 414 (request line over "
        "4094 bytes) or 431 (more than 100 header fields, or one over 8190 bytes) from the web "
        "server, also as problem documents. POSTs accept an `Idempotency-Key` for safe "
        "retries; transitions accept `If-Match` with an order's `ETag`, site changes with the "
        "site's. Webhook endpoints receive each status change, signed the Standard Webhooks "
        "way. Sites, the integrator's places (regions, sites, buildings, floors), are kept "
        "under `/v1/sites`, one at a time or thousands at once (`POST /v1/sites/import`, "
        "which also takes `text/csv`)."
    ),
    # Relative: the host that serves this document (make run, a staging or the production
    # host), so generated clients and Swagger UI's "Try it out" reach the API they read it from.
    "SERVERS": [{"url": "/", "description": "The host serving this document"}],
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PUBLIC": True,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it would send the schema's URL to validator.swagger.io (and the CSP
    # refuses the image anyway).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatus": "orders.api.choices.STATUS_CHOICES",
        "Category": "orders.api.choices.CATEGORY_CHOICES",
        "Priority": "orders.api.choices.PRIORITY_CHOICES",
        "ActorKind": "orders.api.choices.ACTOR_KIND_CHOICES",
        "Visibility": "orders.api.choices.VISIBILITY_CHOICES",
        "EventVisibility": "orders.api.choices.EVENT_VISIBILITY_CHOICES",
        "EventType": "orders.api.choices.EVENT_TYPE_CHOICES",
        "SiteKind": "facilities.api.choices.KIND_CHOICES",
        "Country": "facilities.api.choices.COUNTRY_CHOICES",
        "Weekday": "facilities.api.choices.WEEKDAY_CHOICES",
        "AssetStatus": "facilities.api.choices.ASSET_STATUS_CHOICES",
    },
    # After the enum components: what the API refuses in strings (NUL; webhook URL shape).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apikit.openapi.describe_accepted_text",
    ],
}

#: Throttle counters (API rate, failed API keys). Per process by default (make run, tests);
#: production sets CACHE_URL=redis://... or rediss://... (the chart's and the ECS stack's
#: Redis/Valkey) so that every web process shares them.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A Redis that stops answering must not hold each request for the OS's TCP timeouts: the
    # limits give up quickly and let it through (portal/throttle.py). CACHE_URL's query
    # overrides these (?socket_timeout=2).
    _redis_options = CACHES["default"].setdefault("OPTIONS", {})
    _redis_options.setdefault("socket_connect_timeout", 0.5)
    _redis_options.setdefault("socket_timeout", 0.5)

# --- AWS: DynamoDB, SNS, SQS -------------------------------------------------------------
#: Unset = real AWS. The embedded default (make run, tests) is the emulator on loopback.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="") or None
#: DynamoDB and DynamoDB Streams only (make run, tests: DynamoDB Local beside moto). Unset =
#: AWS_ENDPOINT_URL's, resolved when a client is built (portal.container.endpoint_url).
AWS_ENDPOINT_URL_DYNAMODB = env.str("AWS_ENDPOINT_URL_DYNAMODB", default="") or None
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="us-east-1"))
#: Independent reads one page issues at once (the list's and the dashboard's per-status
#: queries): the page waits for the slowest, not their sum. 1 = one after another.
AWS_CONCURRENT_READS = env_int(env, "AWS_CONCURRENT_READS", 10, low=1)
ORDERS_RESOURCE_PREFIX = env.str("ORDERS_RESOURCE_PREFIX", default="workorders-dev")
# Default names are formatted where every other resource name is (aws.resources), so the
# deployment generator and the running system cannot disagree.
ORDERS_TABLE_NAME = env.str(
    "ORDERS_TABLE_NAME", default=resources.table_name(ORDERS_RESOURCE_PREFIX)
)
#: The table beside the orders (no stream: the orders table's stream carries only orders'
#: changes). Empty = "<ORDERS_TABLE_NAME>-side" (aws.resources.Resources.side_table).
ORDERS_SIDE_TABLE_NAME = env.str("ORDERS_SIDE_TABLE_NAME", default="")
ORDERS_TOPIC_NAME = env.str(
    "ORDERS_TOPIC_NAME", default=resources.topic_name(ORDERS_RESOURCE_PREFIX)
)
# --- Attachments (S3): photos and documents on orders, uploaded by presigned POST ---------
#: Empty = "<ORDERS_RESOURCE_PREFIX>-attachments" (aws.resources.Resources.attachments_bucket).
ORDERS_ATTACHMENTS_BUCKET = env.str("ORDERS_ATTACHMENTS_BUCKET", default="")
#: The largest file an upload's policy lets S3 accept (25 MiB).
ATTACHMENT_MAX_BYTES = env_int(env, "ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, low=1)
#: The media types an attachment may have (comma-separated).
ATTACHMENT_CONTENT_TYPES = env.list(
    "ATTACHMENT_CONTENT_TYPES",
    default=[
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "application/pdf",
        "text/plain",
        "text/csv",
    ],
)
#: Seconds a presigned upload form stays valid; downloads' links live shorter.
ATTACHMENT_UPLOAD_EXPIRES_SECONDS = env_int(
    env, "ATTACHMENT_UPLOAD_EXPIRES_SECONDS", 900, low=1, high=7 * 24 * 3600, why="SigV4"
)
ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS = env_int(
    env, "ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS", 300, low=1, high=7 * 24 * 3600, why="SigV4"
)
#: FIFO topic and queues: per-order ordering and deduplication by event id.
ORDERS_FIFO = env.bool("ORDERS_FIFO", default=False)
#: Deliveries of one message before it goes to its queue's dead-letter queue.
ORDERS_DLQ_MAX_RECEIVE_COUNT = env_int(
    env, "ORDERS_DLQ_MAX_RECEIVE_COUNT", 5, low=1, high=1000, why="SQS maxReceiveCount"
)
#: Seconds a received message stays hidden from other workers; above the longest handler.
ORDERS_VISIBILITY_TIMEOUT = env_int(
    env, "ORDERS_VISIBILITY_TIMEOUT", 60, low=0, high=43200, why="SQS: at most 12 hours"
)
#: First retry delay in seconds for a transient failure; doubles on each delivery.
ORDERS_RETRY_BACKOFF = env_int(
    env, "ORDERS_RETRY_BACKOFF", 2, low=0, high=43200, why="an SQS visibility timeout"
)
#: The one status a worker process serves; ``manage.py runworker <status>`` sets it for the
#: Celery process it starts, so the worker looks up only its own queue (its IAM role reaches
#: no other). Empty: every status queue (tests, ``make run``'s all-in-one worker).
ORDERS_WORKER_STATUS = env.str("ORDERS_WORKER_STATUS", default="")
#: Seconds between the accepted worker's passes over the orders waiting for a team (a safety
#: net: freeing or adding capacity assigns them at once). 0 = no periodic pass.
ORDERS_BACKLOG_SWEEP_SECONDS = env_float(env, "ORDERS_BACKLOG_SWEEP_SECONDS", 60.0, low=0)
#: Working hours the SLA counts in for orders whose team has none of its own (Team.business_hours):
#: "24/7", or e.g. "mon-fri 08:00-18:00 Europe/Madrid".
ORDERS_SLA_CALENDAR = env.str("ORDERS_SLA_CALENDAR", default="24/7")
try:
    from orders.domain.sla import parse_calendar

    parse_calendar(ORDERS_SLA_CALENDAR)
except ValueError as _exc:
    raise ImproperlyConfigured(f"ORDERS_SLA_CALENDAR={ORDERS_SLA_CALENDAR!r}: {_exc}") from None
#: Pause of the event relay after a read of the table's stream found nothing. DynamoDB
#: Streams allow 5 reads a second per shard; the emulator has no such limit (make run: 0.02).
EVENT_RELAY_IDLE_SECONDS = env_float(env, "EVENT_RELAY_IDLE_SECONDS", 0.25, low=0)
#: The staff's figures (orders per status, SLA breached and due soon: orders.figures) are
#: counted by the relay of group 0 every this many seconds while orders change (0: never,
#: and pages count for themselves), at least every ADMIN_FIGURES_HEARTBEAT_SECONDS; a page
#: uses them while younger than ADMIN_FIGURES_MAX_AGE_SECONDS.
ADMIN_FIGURES_REFRESH_SECONDS = env_float(env, "ADMIN_FIGURES_REFRESH_SECONDS", 5.0, low=0)
ADMIN_FIGURES_HEARTBEAT_SECONDS = env_float(env, "ADMIN_FIGURES_HEARTBEAT_SECONDS", 30.0, low=1)
ADMIN_FIGURES_MAX_AGE_SECONDS = env_float(env, "ADMIN_FIGURES_MAX_AGE_SECONDS", 60.0, low=1)
#: Stream records read per call (DynamoDB's maximum is 1000).
EVENT_RELAY_BATCH = env_int(
    env, "EVENT_RELAY_BATCH", 1000, low=1, high=1000, why="DynamoDB Streams GetRecords Limit"
)
#: PublishBatch calls the relay keeps in flight (each order's events stay in order).
EVENT_RELAY_PUBLISH_CONCURRENCY = env_int(env, "EVENT_RELAY_PUBLISH_CONCURRENCY", 8, low=1)
#: Relays sharing the table's stream, each reading its group of shards (one process per group,
#: exactly one per group: the Helm chart and the ECS stack run one each). 1 = a single relay.
EVENT_RELAY_GROUPS = env_int(env, "EVENT_RELAY_GROUPS", 1, low=1)
#: This relay's group, 0 .. EVENT_RELAY_GROUPS - 1.
EVENT_RELAY_GROUP = env_int(
    env, "EVENT_RELAY_GROUP", 0, low=0, high=EVENT_RELAY_GROUPS - 1, why="see EVENT_RELAY_GROUPS"
)
#: Longest pause of the relay after a call that timed out (other failures double up to 30 s):
#: the timeout itself waited already, and a busy endpoint answers again soon.
EVENT_RELAY_TIMEOUT_BACKOFF_SECONDS = env_float(
    env, "EVENT_RELAY_TIMEOUT_BACKOFF_SECONDS", 2.0, low=0, high=30, why="the other failures' 30 s"
)
#: How often the relay asks the table for its current stream (DescribeTable), and how long a
#: shard may stay quiet before the relay reads it again from a new iterator to compare.
EVENT_RELAY_STREAM_CHECK_SECONDS = env_float(env, "EVENT_RELAY_STREAM_CHECK_SECONDS", 5.0, low=0.1)
#: The relay's readiness (portal.role ready) fails when it has made no progress for this long.
EVENT_RELAY_STALL_SECONDS = env_float(env, "EVENT_RELAY_STALL_SECONDS", 60.0, low=1)
#: The file the relay records its progress in for that probe ("" = one per table and relay
#: group in the temporary directory, /tmp in the image).
EVENT_RELAY_PROGRESS_FILE = env.str("EVENT_RELAY_PROGRESS_FILE", default="")
#: How long integrators can replay their event feed (GET /v1/events).
EVENT_FEED_RETENTION_DAYS = env_float(env, "EVENT_FEED_RETENTION_DAYS", 30, low=0)
#: The feed shows events once they are this old, so that no cursor skips a batch in flight.
EVENT_FEED_SETTLE_SECONDS = env_float(env, "EVENT_FEED_SETTLE_SECONDS", 2.0, low=0)

# --- Celery: one worker per status queue, SQS through kombu ------------------------------
SQS_WAIT_TIME_SECONDS = env_int(
    env, "SQS_WAIT_TIME_SECONDS", 10, low=0, high=20, why="SQS long polling: at most 20 s"
)
SQS_POLLING_INTERVAL = env_float(env, "SQS_POLLING_INTERVAL", 0.0, low=0)
WORKER_CONCURRENCY = env_int(env, "WORKER_CONCURRENCY", 4, low=1)
WORKER_POOL = env.str("WORKER_POOL", default="threads")
#: Messages a worker holds per thread: one being handled, the rest received ahead so a thread
#: never waits for a receive round trip. Held messages are returned at once on shutdown.
WORKER_PREFETCH_MULTIPLIER = env_int(env, "WORKER_PREFETCH_MULTIPLIER", 4, low=0)
#: On SIGTERM a worker stops taking messages and gives running ones this long to finish;
#: then cancels what still runs (a prefork child is killed and its message returned to the queue;
#: a thread cannot be, and the worker waits for it). Keep it below the orchestrator's grace period.
WORKER_SOFT_SHUTDOWN_TIMEOUT = env_float(env, "WORKER_SOFT_SHUTDOWN_TIMEOUT", 60.0, low=0)


def _broker_url() -> str:
    """kombu reaches the emulator through the broker URL's host and port; none = real AWS."""
    if not AWS_ENDPOINT_URL:
        return "sqs://"
    from urllib.parse import urlsplit

    endpoint = urlsplit(AWS_ENDPOINT_URL)
    return (
        f"sqs://{endpoint.hostname}:{endpoint.port or (443 if endpoint.scheme == 'https' else 80)}"
    )


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_broker_url())
#: Our subclass of kombu's SQS transport: it reads the raw events SNS puts on the queues.
CELERY_BROKER_TRANSPORT = "workers.transport:EventTransport"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "region": AWS_REGION,
    "is_secure": not (AWS_ENDPOINT_URL or "").startswith("http://"),
    "wait_time_seconds": SQS_WAIT_TIME_SECONDS,
    "polling_interval": SQS_POLLING_INTERVAL,
    "visibility_timeout": ORDERS_VISIBILITY_TIMEOUT,
    "fetch_message_attributes": ["ApproximateReceiveCount", "MessageGroupId"],
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Handlers are idempotent, so a message is acknowledged only once handled; a failure leaves it
# to SQS (visibility backoff, then the dead-letter queue) instead of deleting it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = False
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = WORKER_PREFETCH_MULTIPLIER
CELERY_WORKER_CONCURRENCY = WORKER_CONCURRENCY
# Our thread pool lets a soft shutdown reach its end with a task still running (workers/pool.py).
CELERY_WORKER_POOL = "workers.pool:ThreadPool" if WORKER_POOL == "threads" else WORKER_POOL
# SQS has no broadcast: no remote control, no events, no gossip or mingle.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's soft shutdown (runworker maps SIGTERM to it): wait for running tasks, then cancel
# what is left (see WORKER_SOFT_SHUTDOWN_TIMEOUT above).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = WORKER_SOFT_SHUTDOWN_TIMEOUT
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = False

# --- Maintenance plans (the scheduler role, run_scheduler) ---------------------------------
#: Seconds between the scheduler's passes over the due plans (an order is created at most
#: this long after its time).
SCHEDULER_INTERVAL_SECONDS = env_float(env, "SCHEDULER_INTERVAL_SECONDS", 30.0, low=0.1)
#: A plan whose next order is this late counts as overdue (portal_plans_overdue, its alert).
SCHEDULER_GRACE_SECONDS = env_float(env, "SCHEDULER_GRACE_SECONDS", 300.0, low=1)

# --- Webhooks -------------------------------------------------------------------------------
#: Seconds to wait after each failed delivery attempt (Svix's schedule: 8 attempts over ~27 h).
WEBHOOK_RETRY_SCHEDULE = tuple(
    check_range("WEBHOOK_RETRY_SCHEDULE", delay, low=0)
    for delay in env.list(
        "WEBHOOK_RETRY_SCHEDULE", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
    )
)
#: A delivery attempt's limit as a whole: connecting, sending, the answer's headers and body.
WEBHOOK_TIMEOUT_SECONDS = env_float(env, "WEBHOOK_TIMEOUT_SECONDS", 5.0, low=0.001)
#: Attempts in flight per dispatcher.
WEBHOOK_CONCURRENCY = env_int(env, "WEBHOOK_CONCURRENCY", 8, low=1)
#: At most this many of them for one endpoint (0: all but a quarter, so others always get some).
WEBHOOK_ENDPOINT_CONCURRENCY = env_int(env, "WEBHOOK_ENDPOINT_CONCURRENCY", 0, low=0)
#: Pause of the dispatcher when nothing is due.
WEBHOOK_IDLE_SECONDS = env_float(env, "WEBHOOK_IDLE_SECONDS", 0.5, low=0)
#: Finished deliveries (and their attempts) are deleted after this many days; 0 keeps them.
WEBHOOK_RETENTION_DAYS = env_float(env, "WEBHOOK_RETENTION_DAYS", 30.0, low=0)
#: How often the dispatcher prunes them (each dispatcher; deleting twice is harmless).
WEBHOOK_PRUNE_INTERVAL_SECONDS = env_int(env, "WEBHOOK_PRUNE_INTERVAL_SECONDS", 3600, low=1)
#: Allow endpoints on loopback or private networks (local development and tests only).
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)

#: Failed admin logins (per user name and address) before a lockout of that many seconds.
ADMIN_LOGIN_MAX_FAILURES = env_int(env, "ADMIN_LOGIN_MAX_FAILURES", 5, low=1)
ADMIN_LOGIN_LOCKOUT_SECONDS = env_int(env, "ADMIN_LOGIN_LOCKOUT_SECONDS", 900, low=1)
#: Failed admin logins from one address, whatever the user names, before that address is
#: locked out for ADMIN_LOGIN_LOCKOUT_SECONDS (one password tried across many user names).
ADMIN_LOGIN_ADDRESS_MAX_FAILURES = env_int(env, "ADMIN_LOGIN_ADDRESS_MAX_FAILURES", 20, low=1)
#: A staff session without a request for this long is logged out (8 h); activity extends it.
ADMIN_IDLE_TIMEOUT_SECONDS = env_int(env, "ADMIN_IDLE_TIMEOUT_SECONDS", 8 * 3600, low=1)
#: The session cookie and its stored row end with the idle timeout too, not after 14 days (the
#: last-activity stamp, refreshed once a minute, saves the session and so extends both).
SESSION_COOKIE_AGE = ADMIN_IDLE_TIMEOUT_SECONDS + 60
#: The admin's pipeline page counts orders in a status for longer than this as stuck.
PIPELINE_STUCK_MINUTES = env_int(env, "PIPELINE_STUCK_MINUTES", 30, low=1)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
#: json: one JSON object per line (containers, log shippers); text: for a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
# Python's warnings (deprecations, Celery running as root) as log records in the same format.
logging.captureWarnings(True)
#: Port of each process's Prometheus /metrics endpoint; 0 = none (the local default, since
#: make run starts many processes on one host). The container image sets 9100.
METRICS_PORT = env_int(env, "METRICS_PORT", 0, low=0, high=65535)
