import { EnvReader } from '../config/env-parsers';
import { readTracingConfig } from './tracing-config';

function sut(env: Record<string, string>) {
  const reader = new EnvReader(env);
  return { config: readTracingConfig(reader, 'scheduled-calls-test'), problems: reader.problems };
}

describe(readTracingConfig.name, () => {
  it('is off with no endpoint, and names the process by default', () => {
    expect(sut({}).config).toEqual({ otlpTracesUrl: null, otlpHeaders: {}, serviceName: 'scheduled-calls-test', sampleRatio: 1 });
  });

  it('sends to <endpoint>/v1/traces, or to the traces endpoint as given', () => {
    expect(sut({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).config.otlpTracesUrl).toBe('http://collector:4318/v1/traces');
    expect(sut({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/traces' }).config.otlpTracesUrl).toBe(
      'https://b/traces',
    );
  });

  it('reads the service name, export headers (URL-decoded) and a parent-based ratio sampler', () => {
    const { config, problems } = sut({
      OTEL_SERVICE_NAME: 'api-eu',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%2Cb, x-team = core',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ serviceName: 'api-eu', otlpHeaders: { 'api-key': 'a,b', 'x-team': 'core' }, sampleRatio: 0.25 });
  });

  it('reports bad values without echoing header values', () => {
    const { problems } = sut({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector',
      OTEL_EXPORTER_OTLP_HEADERS: 'secret-token-only',
      OTEL_TRACES_SAMPLER: 'always_off',
      OTEL_TRACES_SAMPLER_ARG: '2',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT is not a valid URL/),
      expect.stringMatching(/^OTEL_TRACES_SAMPLER must be/),
      'OTEL_EXPORTER_OTLP_HEADERS must be a list of key=value pairs separated by commas',
    ]);
    expect(problems.join()).not.toContain('secret-token-only');
  });
});
