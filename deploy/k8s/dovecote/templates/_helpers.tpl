{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "dovecote.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-chart, unless the release name already contains the chart name. */}}
{{- define "dovecote.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dovecote.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels; the component is passed as .component. */}}
{{- define "dovecote.labels" -}}
helm.sh/chart: {{ include "dovecote.chart" .root }}
{{ include "dovecote.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: dovecote
{{- end }}

{{/* Selector labels: name, instance and component only (they never change across upgrades). */}}
{{- define "dovecote.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dovecote.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{- define "dovecote.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dovecote.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret every pod reads its keys from: existingSecret, or the one this chart renders. */}}
{{- define "dovecote.secretName" -}}
{{- default (include "dovecote.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The environment variable holding the store's connection string. */}}
{{- define "dovecote.storeVariable" -}}
{{- if eq .Values.store.type "azure" }}DOVECOTE_AZURE_STORAGE{{ else }}DOVECOTE_REDIS{{ end }}
{{- end }}

{{- define "dovecote.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .root.Values.image.tag) }}
{{- end }}

{{- define "dovecote.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "dovecote.secretName" .root }}
      key: {{ .name }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{- define "dovecote.configEnv" -}}
- name: {{ .name }}
  valueFrom:
    configMapKeyRef:
      name: {{ include "dovecote.fullname" .root }}
      key: {{ .name }}
{{- end }}

{{/* Environment shared by Silos and Apis: the store, the cluster identity, the secrets key, channels and `config`. */}}
{{- define "dovecote.commonEnv" -}}
{{- range list "DOVECOTE_CLUSTERING" "DOVECOTE_SERVICE_ID" "DOVECOTE_CLUSTER_ID" }}
{{ include "dovecote.configEnv" (dict "root" $ "name" .) }}
{{- end }}
{{- range $name, $_ := .Values.config }}
{{ include "dovecote.configEnv" (dict "root" $ "name" $name) }}
{{- end }}
{{ include "dovecote.secretEnv" (dict "root" . "name" (include "dovecote.storeVariable" .)) }}
{{ include "dovecote.secretEnv" (dict "root" . "name" "DOVECOTE_SECRETS_KEY") }}
{{- range list "TELEGRAM_INSTANCES" "DISCORD_INSTANCES" "SLACK_INSTANCES" "WEBHOOK_INSTANCES" }}
{{ include "dovecote.secretEnv" (dict "root" $ "name" . "optional" true) }}
{{- end }}
{{- end }}

{{/* The pod-level parts both Deployments share. */}}
{{- define "dovecote.podCommon" -}}
serviceAccountName: {{ include "dovecote.serviceAccountName" .root }}
automountServiceAccountToken: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .values.topologySpread.enabled }}
topologySpreadConstraints:
  - maxSkew: {{ .values.topologySpread.maxSkew }}
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "dovecote.selectorLabels" . | nindent 8 }}
  - maxSkew: {{ .values.topologySpread.maxSkew }}
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "dovecote.selectorLabels" . | nindent 8 }}
{{- end }}
volumes:
  # The only writable place: the root filesystem is read-only.
  - name: tmp
    emptyDir:
      sizeLimit: 256Mi
{{- end }}

{{/* Egress every pod needs: DNS, the store, and HTTPS (Azure Storage, Telegram, Discord, Slack, webhooks). */}}
{{- define "dovecote.commonEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
- ports:
    - port: 443
      protocol: TCP
{{- with .Values.networkPolicy.storeEgress }}
{{- if or .to .ports }}
- {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .ports }}
  ports:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
{{- end }}
