import { DynamicModule, Global, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { context, trace, Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from './tracing-config';

const INSTRUMENTATION_SCOPE = 'scheduled-calls';

/** For tests: spans go to these processors (an in-memory exporter), whatever the endpoint says. */
export interface TracingOverrides {
  spanProcessors?: SpanProcessor[];
}

interface ShutdownHandle {
  shutdown(): Promise<void>;
}

/**
 * This process's tracer. Off (no OTLP endpoint): no SDK is loaded or registered, and `tracer` is
 * the API's no-op one; every caller checks `enabled` first so the hot path does not even build
 * span names or attributes. On: a tracer provider of its own (not the global one, so an API and a
 * worker in one test process keep their own `service.name`), batching spans to OTLP, and the
 * AsyncLocalStorage context manager registered globally (context is process-wide by nature).
 */
export class Tracing {
  static readonly disabled = new Tracing(false, trace.getTracer(INSTRUMENTATION_SCOPE), null);

  private constructor(
    readonly enabled: boolean,
    readonly tracer: Tracer,
    private readonly handle: ShutdownHandle | null,
  ) {}

  /** Exports the spans still buffered and stops; spans ended afterwards are dropped. */
  async shutdown(): Promise<void> {
    await this.handle?.shutdown();
  }

  /** Builds the provider; the SDK packages are loaded only here, so they cost nothing while tracing is off. */
  static async start(config: TracingConfig, overrides: TracingOverrides = {}): Promise<Tracing> {
    if (!config.otlpTracesUrl && !overrides.spanProcessors) return Tracing.disabled;
    const [{ BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler }, { resourceFromAttributes }, { ATTR_SERVICE_NAME }] =
      await Promise.all([import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/resources'), import('@opentelemetry/semantic-conventions')]);
    let processors = overrides.spanProcessors;
    if (!processors) {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
      processors = [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.otlpTracesUrl!, headers: config.otlpHeaders }))];
    }
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
      spanProcessors: processors,
    });
    await retainContextManager();
    return new Tracing(true, provider.getTracer(INSTRUMENTATION_SCOPE), {
      async shutdown() {
        try {
          await provider.shutdown();
        } finally {
          releaseContextManager();
        }
      },
    });
  }
}

// One global context manager for every enabled Tracing of the process, removed with the last one.
let contextUsers = 0;

async function retainContextManager(): Promise<void> {
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  if (contextUsers++ === 0) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

function releaseContextManager(): void {
  if (--contextUsers === 0) context.disable();
}

@Injectable()
class TracingShutdown implements OnApplicationShutdown {
  private readonly logger = new Logger('Tracing');

  constructor(private readonly tracing: Tracing) {}

  async onApplicationShutdown(): Promise<void> {
    await this.tracing.shutdown().catch((error: Error) => this.logger.warn(`Could not export the last spans: ${error.message}`));
  }
}

/** Provides the app's Tracing (global, like the configuration) and shuts it down with the app. */
@Global()
@Module({})
export class TracingModule {
  static forRoot(start: () => Tracing | Promise<Tracing>): DynamicModule {
    return {
      module: TracingModule,
      providers: [{ provide: Tracing, useFactory: start }, TracingShutdown],
      exports: [Tracing],
    };
  }
}
