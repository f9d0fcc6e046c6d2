{{/* Names ---------------------------------------------------------------------------- */}}

{{- define "wop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-work-order-portal, or the release name alone if it already contains it. */}}
{{- define "wop.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's object name: (dict "root" $ "component" "worker-in-progress"). */}}
{{- define "wop.componentName" -}}
{{- printf "%s-%s" (include "wop.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels --------------------------------------------------------------------------- */}}

{{- define "wop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wop.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .status }}
work-order-portal/status: {{ . }}
{{- end }}
{{- with .group }}
work-order-portal/relay-group: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* (dict "root" $ "component" "worker" "status" "in_progress"); status optional. */}}
{{- define "wop.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "wop.selectorLabels" . }}
app.kubernetes.io/part-of: work-order-portal
app.kubernetes.io/version: {{ include "wop.imageTag" .root | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/* The image ----------------------------------------------------------------------- */}}

{{- define "wop.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "wop.image" -}}
{{- $image := printf "%s:%s" .Values.image.repository (include "wop.imageTag" .) -}}
{{- if .Values.image.digest -}}
{{- $image = printf "%s@%s" $image .Values.image.digest -}}
{{- end -}}
{{- $image -}}
{{- end -}}

{{- define "wop.imagePullPolicy" -}}
{{- if .Values.image.pullPolicy -}}
{{- .Values.image.pullPolicy -}}
{{- else if .Values.image.digest -}}
IfNotPresent
{{- else -}}
Always
{{- end -}}
{{- end -}}

{{/* Settings ------------------------------------------------------------------------ */}}

{{/* The ingress hosts, as a list. */}}
{{- define "wop.ingressHosts" -}}
{{- $hosts := list -}}
{{- if .Values.ingress.enabled -}}
{{- range .Values.ingress.hosts }}{{ $hosts = append $hosts .host }}{{ end -}}
{{- end -}}
{{- toJson $hosts -}}
{{- end -}}

{{/* The plain settings every pod gets (the ConfigMap's data, the hook jobs' env). */}}
{{- define "wop.settings" -}}
{{- $hosts := include "wop.ingressHosts" . | fromJsonArray -}}
{{- $allowed := .Values.config.allowedHosts | default $hosts -}}
{{- $origins := .Values.config.csrfTrustedOrigins -}}
{{- if not $origins -}}
{{- range $hosts }}{{ $origins = append $origins (printf "https://%s" .) }}{{ end -}}
{{- end -}}
{{- $settings := dict
  "AWS_REGION" .Values.aws.region
  "ORDERS_RESOURCE_PREFIX" .Values.aws.resourcePrefix
  "ORDERS_FIFO" (ternary "true" "false" .Values.aws.fifo)
  "TRUST_X_FORWARDED_PROTO" (ternary "true" "false" .Values.config.trustXForwardedProto)
  "SECURE_COOKIES" (ternary "true" "false" .Values.config.secureCookies)
  "SECURE_HSTS_SECONDS" (toString .Values.config.hstsSeconds)
  "TRUSTED_PROXY_COUNT" (toString .Values.config.trustedProxyCount)
  "ORDERS_VISIBILITY_TIMEOUT" (toString .Values.config.visibilityTimeout)
  "ORDERS_DLQ_MAX_RECEIVE_COUNT" (toString .Values.config.dlqMaxReceiveCount)
  "WORKER_CONCURRENCY" (toString .Values.workers.defaults.concurrency)
  "WEB_CONCURRENCY" (toString .Values.web.concurrency)
  "LOG_FORMAT" .Values.config.logFormat
  "CONN_MAX_AGE" (toString .Values.config.connMaxAge)
  "LOG_LEVEL" .Values.config.logLevel
  "METRICS_PORT" (toString .Values.metrics.port)
-}}
{{- with .Values.aws.attachmentsBucket }}{{ $_ := set $settings "ORDERS_ATTACHMENTS_BUCKET" . }}{{ end -}}
{{- with include "wop.cacheUrl" . }}{{ $_ := set $settings "CACHE_URL" . }}{{ end -}}
{{- with $allowed }}{{ $_ := set $settings "ALLOWED_HOSTS" (join "," .) }}{{ end -}}
{{- with $origins }}{{ $_ := set $settings "CSRF_TRUSTED_ORIGINS" (join "," .) }}{{ end -}}
{{- range $key, $value := .Values.config.extra }}{{ $_ := set $settings $key (toString $value) }}{{ end -}}
{{- toYaml $settings -}}
{{- end -}}

{{/* Where CACHE_URL comes from: url (cache.url, in the ConfigMap), secret (the Secret's
CACHE_URL, required) or redis (the chart's Valkey). Refuses to render without one: per-pod
counters would multiply the API's limits by the number of pods. */}}
{{- define "wop.cacheSource" -}}
{{- $cache := .Values.cache -}}
{{- if $cache.url -}}
{{- if regexMatch "^[a-z]+://[^/]*@" $cache.url -}}
{{- fail "cache.url holds credentials: put the URL in the Secret's CACHE_URL and set cache.fromSecret=true" -}}
{{- end -}}
url
{{- else if or $cache.fromSecret (and (not .Values.secrets.existingSecret) .Values.secrets.cacheUrl) -}}
secret
{{- else if $cache.redis.enabled -}}
redis
{{- else -}}
{{- fail "cache: the API's limits need one store that every web pod shares. Set cache.url (e.g. rediss://<ElastiCache endpoint>:6379/0), or cache.fromSecret=true with CACHE_URL in the Secret, or cache.redis.enabled=true for the chart's own Valkey" -}}
{{- end -}}
{{- end -}}

{{/* CACHE_URL for the ConfigMap; empty when it comes from the Secret. */}}
{{- define "wop.cacheUrl" -}}
{{- $source := include "wop.cacheSource" . -}}
{{- if eq $source "url" -}}
{{- .Values.cache.url -}}
{{- else if eq $source "redis" -}}
{{- printf "redis://%s:6379/0" (include "wop.componentName" (dict "root" . "component" "cache")) -}}
{{- end -}}
{{- end -}}

{{- define "wop.cacheImage" -}}
{{- $image := .Values.cache.redis.image -}}
{{- $ref := printf "%s:%s" $image.repository $image.tag -}}
{{- if $image.digest -}}{{- $ref = printf "%s@%s" $ref $image.digest -}}{{- end -}}
{{- $ref -}}
{{- end -}}

{{- define "wop.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "wop.fullname" .) -}}
{{- end -}}

{{/* The secret settings as env entries; (dict "root" $ "secret" <name>). CACHE_URL only when
it comes from the Secret, and then required (otherwise it is in the ConfigMap). */}}
{{- define "wop.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ .secret }}, key: DATABASE_URL}
- name: SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ .secret }}, key: SECRET_KEY}
{{- if eq (include "wop.cacheSource" .root) "secret" }}
- name: CACHE_URL
  valueFrom:
    secretKeyRef: {name: {{ .secret }}, key: CACHE_URL}
{{- end }}
{{- end -}}

{{/* Pods ---------------------------------------------------------------------------- */}}

{{- define "wop.serviceAccountName" -}}
{{- include "wop.componentName" (dict "root" .root "component" .role) -}}
{{- end -}}

{{/* A status worker's account: (dict "root" $ "entry" <workflow.yaml entry>). */}}
{{- define "wop.workerServiceAccountName" -}}
{{- if .root.Values.serviceAccounts.worker.perStatus -}}
{{- include "wop.componentName" (dict "root" .root "component" (printf "worker-%s" .entry.slug)) -}}
{{- else -}}
{{- include "wop.serviceAccountName" (dict "root" .root "role" "worker") -}}
{{- end -}}
{{- end -}}

{{/* Restarts pods when the chart's configuration changes. */}}
{{- define "wop.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}

{{- define "wop.podAnnotations" -}}
{{- include "wop.checksums" . }}
{{- if .Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "wop.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "wop.containerSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  privileged: false
  capabilities:
    drop: [ALL]
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* Pod-level settings shared by every pod: identity, security, scheduling, /tmp. */}}
{{- define "wop.podCommon" -}}
automountServiceAccountToken: {{ .root.Values.serviceAccounts.automountToken }}
{{- if .serviceAccount }}
serviceAccountName: {{ .serviceAccount }}
{{- end }}
{{ include "wop.podSecurityContext" .root }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 256Mi
{{- end -}}

{{/* Container fields shared by every container (name, command, env, resources come apart). */}}
{{- define "wop.containerCommon" -}}
image: {{ include "wop.image" . }}
imagePullPolicy: {{ include "wop.imagePullPolicy" . }}
{{ include "wop.containerSecurityContext" . }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}

{{- define "wop.metricsPort" -}}
- name: metrics
  containerPort: {{ .Values.metrics.port }}
  protocol: TCP
{{- end -}}

{{/* Liveness of the background roles: their metrics endpoint answers. */}}
{{- define "wop.metricsLiveness" -}}
livenessProbe:
  httpGet:
    path: /metrics
    port: metrics
  initialDelaySeconds: 10
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}

{{/* Readiness of the background roles: `portal.role ready [status]` (1-2 s, prints JSON). */}}
{{- define "wop.readyProbe" -}}
readinessProbe:
  exec:
    command:
      - python
      - -m
      - portal.role
      - ready
      {{- with .status }}
      - {{ . | quote }}
      {{- end }}
  initialDelaySeconds: 5
  periodSeconds: 30
  timeoutSeconds: 10
  failureThreshold: 3
{{- end -}}

{{/* The workflow: the statuses in workflow.yaml (generated from the workflow table). */}}
{{- define "wop.statuses" -}}
{{- $workflow := .Files.Get "workflow.yaml" | fromYaml -}}
{{- if or (not $workflow) (hasKey $workflow "Error") (not $workflow.statuses) -}}
{{- fail "workflow.yaml is missing or invalid: run `make render-deploy`" -}}
{{- end -}}
{{- toJson $workflow.statuses -}}
{{- end -}}

{{/* A deep merge, key by key: (dict "base" $map "over" $map) -> JSON. Not mergeOverwrite,
     which ignores false and 0 in the overriding map (minReplicas: 0 must win). */}}
{{- define "wop.deepMerge" -}}
{{- $merged := deepCopy .base -}}
{{- range $key, $value := .over -}}
{{- $current := get $merged $key -}}
{{- if and (kindIs "map" $value) (kindIs "map" $current) -}}
{{- $_ := set $merged $key (include "wop.deepMerge" (dict "base" $current "over" $value) | fromJson) -}}
{{- else -}}
{{- $_ := set $merged $key $value -}}
{{- end -}}
{{- end -}}
{{- toJson $merged -}}
{{- end -}}

{{/* A status's worker settings: workers.defaults, then workers.overrides.<status> on top. */}}
{{- define "wop.workerSettings" -}}
{{- $override := get (.root.Values.workers.overrides | default dict) .status | default dict -}}
{{- include "wop.deepMerge" (dict "base" .root.Values.workers.defaults "over" $override) -}}
{{- end -}}

{{/* The SQS queue KEDA watches for a status: (dict "root" $ "slug" "in-progress"). */}}
{{- define "wop.queueName" -}}
{{- printf "%s-%s%s" .root.Values.aws.resourcePrefix .slug (ternary ".fifo" "" .root.Values.aws.fifo) -}}
{{- end -}}

{{- define "wop.queueURL" -}}
{{- $aws := .root.Values.aws -}}
{{- printf "https://sqs.%s.%s/%s/%s" $aws.region $aws.dnsSuffix (toString $aws.accountId) (include "wop.queueName" .) -}}
{{- end -}}

{{/* Refuse to render with the placeholder account: KEDA's queue URLs would point nowhere and
every worker would sit at its minimum, silently. */}}
{{- define "wop.requireAccount" -}}
{{- if eq (toString .Values.aws.accountId) "000000000000" -}}
{{- fail "aws.accountId is the placeholder 000000000000: set it to the AWS account of the queues (KEDA reads them by URL), e.g. --set aws.accountId=$(aws sts get-caller-identity --query Account --output text)" -}}
{{- end -}}
{{- end -}}
