{{/* The chart's name, or nameOverride. */}}
{{- define "trikey.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name. Kept to 40 characters so that a function's name with its
suffix (-dispatch-email) and Knative's revision suffix stay within a DNS label.
*/}}
{{- define "trikey.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The chart label: name and version. */}}
{{- define "trikey.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select one component's pods: (dict "root" $ "component" "generate-keys"). */}}
{{- define "trikey.selectorLabels" -}}
app.kubernetes.io/name: {{ include "trikey.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The standard labels of every object: (dict "root" $ "component" "broker"). */}}
{{- define "trikey.labels" -}}
{{ include "trikey.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: trikey
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "trikey.chart" .root }}
{{- end }}

{{/*
The name of one function's Knative Service: (dict "root" $ "name" "dispatch-email"). Trigger
subscribers and dead-letter sinks name functions this way, so an unknown name stops here.
*/}}
{{- define "trikey.functionName" -}}
{{- if not (has .name (list "generate-keys" "dispatch-email")) }}
{{- fail (printf "%q is not a Trikey function: a subscriber or dead-letter sink ref must be generate-keys or dispatch-email" .name) }}
{{- end }}
{{- printf "%s-%s" (include "trikey.fullname" .root) .name }}
{{- end }}

{{/* The functions' image. */}}
{{- define "trikey.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The SES emulator's image: its own value, else the functions' image. */}}
{{- define "trikey.sesEmulatorImage" -}}
{{- $image := .Values.sesEmulator.image }}
{{- printf "%s:%s" ($image.repository | default .Values.image.repository) ($image.tag | default .Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The Secret and key holding TRIKEY_TRANSPORT_KEYS. */}}
{{- define "trikey.transportKeysSecret" -}}
{{- .Values.transportKeys.existingSecret | default (printf "%s-transport-keys" (include "trikey.fullname" .)) }}
{{- end }}

{{- define "trikey.transportKeysKey" -}}
{{- if .Values.transportKeys.existingSecret }}{{ .Values.transportKeys.existingSecretKey }}{{ else }}TRIKEY_TRANSPORT_KEYS{{ end }}
{{- end }}

{{/* Whether generate-keys gets TRIKEY_API_TOKENS, and from which Secret and key. */}}
{{- define "trikey.apiTokensEnabled" -}}
{{- if or .Values.generateKeys.apiTokens.value .Values.generateKeys.apiTokens.existingSecret }}true{{ end }}
{{- end }}

{{- define "trikey.apiTokensSecret" -}}
{{- .Values.generateKeys.apiTokens.existingSecret | default (printf "%s-api-tokens" (include "trikey.fullname" .)) }}
{{- end }}

{{- define "trikey.apiTokensKey" -}}
{{- if .Values.generateKeys.apiTokens.existingSecret }}{{ .Values.generateKeys.apiTokens.existingSecretKey }}{{ else }}TRIKEY_API_TOKENS{{ end }}
{{- end }}

{{/*
How dispatch-email gets SES credentials: "secret" (a Secret the chart makes), "existing" (the
user's Secret), "emulator" (placeholder keys the emulator accepts, in a Secret the chart makes),
or "" (a role through the ServiceAccount, or whatever the AWS SDK's default chain finds).
Contradictory settings stop the render here with the values to fix.
*/}}
{{- define "trikey.sesCredentials" -}}
{{- $ses := .Values.ses }}
{{- $given := or $ses.credentials.accessKeyId $ses.credentials.secretAccessKey }}
{{- if and $given (not (and $ses.credentials.accessKeyId $ses.credentials.secretAccessKey)) }}
{{- fail "ses.credentials.accessKeyId and ses.credentials.secretAccessKey go together: set both or neither" }}
{{- end }}
{{- if and $given $ses.credentials.existingSecret }}
{{- fail "ses.credentials: set accessKeyId and secretAccessKey, or existingSecret, not both" }}
{{- end }}
{{- if and $ses.serviceAccount.annotations (or $given $ses.credentials.existingSecret) }}
{{- fail "ses.serviceAccount.annotations (an IAM role) replaces ses.credentials: set one or the other" }}
{{- end }}
{{- if $given }}secret
{{- else if $ses.credentials.existingSecret }}existing
{{- else if and .Values.sesEmulator.enabled (not $ses.serviceAccount.annotations) }}emulator
{{- end }}
{{- end }}

{{- define "trikey.sesCredentialsSecret" -}}
{{- .Values.ses.credentials.existingSecret | default (printf "%s-ses-credentials" (include "trikey.fullname" .)) }}
{{- end }}

{{/* TRIKEY_SES_ENDPOINT: the in-cluster emulator when it runs, else ses.endpoint. */}}
{{- define "trikey.sesEndpoint" -}}
{{- if .Values.sesEmulator.enabled }}
{{- printf "http://%s-ses-emulator.%s.svc:8005" (include "trikey.fullname" .) .Release.Namespace }}
{{- else }}
{{- .Values.ses.endpoint }}
{{- end }}
{{- end }}

{{/*
A Knative Destination from the trigger file's spelling: (dict "root" $ "sink" (dict "ref"
"dispatch-email" "uri" "/dead-letter")). A ref names a function; a uri is then a path on it,
and without a ref it must be an absolute URL.
*/}}
{{- define "trikey.destination" -}}
{{- $sink := .sink }}
{{- if and (not $sink.ref) (not (regexMatch "^https?://[^/]" ($sink.uri | default ""))) }}
{{- fail (printf "dead-letter sink %q: without a ref, uri must be an absolute http(s) URL" ($sink.uri | default "")) }}
{{- end }}
{{- if and $sink.ref $sink.uri (not (regexMatch "^/[^/]|^/$" $sink.uri)) }}
{{- fail (printf "dead-letter sink uri %q: with a ref, uri must be a path such as /dead-letter" $sink.uri) }}
{{- end }}
{{- if $sink.ref }}
ref:
  apiVersion: serving.knative.dev/v1
  kind: Service
  name: {{ include "trikey.functionName" (dict "root" .root "name" $sink.ref) }}
{{- end }}
{{- if $sink.uri }}
uri: {{ $sink.uri | quote }}
{{- end }}
{{- end }}

{{/* The container security context both functions and the emulator run with. */}}
{{- define "trikey.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Readiness and liveness probes on a function's own health paths; Knative fills in the port. */}}
{{- define "trikey.functionProbes" -}}
readinessProbe:
  httpGet:
    path: /health/readiness
  periodSeconds: 5
  failureThreshold: 3
livenessProbe:
  httpGet:
    path: /health/liveness
  periodSeconds: 10
  failureThreshold: 3
{{- end }}

{{/* Knative's scale and concurrency annotations from a function's values. */}}
{{- define "trikey.scaleAnnotations" -}}
autoscaling.knative.dev/min-scale: {{ .minScale | int64 | quote }}
autoscaling.knative.dev/max-scale: {{ .maxScale | int64 | quote }}
autoscaling.knative.dev/target: {{ .target | int64 | quote }}
{{- end }}
