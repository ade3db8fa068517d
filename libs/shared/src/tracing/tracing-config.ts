import type { EnvReader } from '../config/env-parsers';

/** OpenTelemetry tracing (README "Tracing"): off unless an OTLP endpoint is configured. */
export interface TracingConfig {
  /** Where spans are exported (OTLP over HTTP, protobuf); null turns tracing off. */
  otlpTracesUrl: string | null;
  /** Extra headers of every export request (a vendor's API key, say), from OTEL_EXPORTER_OTLP_HEADERS. */
  otlpHeaders: Record<string, string>;
  /** `service.name` of this process's spans. */
  serviceName: string;
  /** Share of new traces kept (0 to 1); a trace started elsewhere keeps its caller's decision. */
  sampleRatio: number;
}

const SAMPLERS = ['parentbased_always_on', 'parentbased_traceidratio'] as const;

/**
 * The standard OTEL_* variables, the subset this platform honours. `OTEL_EXPORTER_OTLP_ENDPOINT`
 * is the collector's base URL (spans go to `<endpoint>/v1/traces`, as the OTLP spec says);
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is a full URL that overrides it.
 */
export function readTracingConfig(reader: EnvReader, defaultServiceName: string): TracingConfig {
  const base = reader.string('OTEL_EXPORTER_OTLP_ENDPOINT');
  const traces = reader.string('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  let otlpTracesUrl: string | null = null;
  if (traces !== undefined) otlpTracesUrl = reader.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces, ['http:', 'https:']);
  else if (base !== undefined) otlpTracesUrl = `${reader.url('OTEL_EXPORTER_OTLP_ENDPOINT', base, ['http:', 'https:']).replace(/\/+$/, '')}/v1/traces`;

  const sampler = reader.string('OTEL_TRACES_SAMPLER', 'parentbased_always_on');
  if (!(SAMPLERS as readonly string[]).includes(sampler)) {
    reader.problems.push(`OTEL_TRACES_SAMPLER must be ${SAMPLERS.join(' or ')} (got "${sampler}")`);
  }
  let sampleRatio = 1;
  if (sampler === 'parentbased_traceidratio') {
    const raw = reader.string('OTEL_TRACES_SAMPLER_ARG', '1');
    sampleRatio = Number(raw);
    if (!Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1) {
      reader.problems.push(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got "${raw}")`);
      sampleRatio = 1;
    }
  }
  return {
    otlpTracesUrl,
    otlpHeaders: parseHeaders(reader, reader.string('OTEL_EXPORTER_OTLP_HEADERS', '')),
    serviceName: reader.string('OTEL_SERVICE_NAME', defaultServiceName),
    sampleRatio,
  };
}

/** `key1=value1,key2=value2`, values URL-encoded (the OTel convention). */
function parseHeaders(reader: EnvReader, raw: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) {
      // The value may be a secret: name the variable, never echo it.
      reader.problems.push('OTEL_EXPORTER_OTLP_HEADERS must be a list of key=value pairs separated by commas');
      return {};
    }
    try {
      headers[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      reader.problems.push('OTEL_EXPORTER_OTLP_HEADERS has a badly URL-encoded key or value');
      return {};
    }
  }
  return headers;
}
