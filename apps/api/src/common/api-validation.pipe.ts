import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { ApiError, FieldError } from './api-error';
import { findUnacceptableValue } from './input-guard';

/**
 * The global validation pipe: unknown fields are refused, bodies answer 422 `validation_failed`,
 * query strings 400 `invalid_query`, each with the list of fields at fault.
 */
@Injectable()
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => {
        const fields = flatten(errors);
        return ApiError.unprocessable('validation_failed', fields.map((f) => f.message).join('; '), fields);
      },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'query') checkQuery(value, metadata);
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === undefined || value === null || (typeof value === 'string' && value === '')) value = {};
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw ApiError.unprocessable('validation_failed', 'The body must be a JSON object.');
      }
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (metadata.type === 'query' && error instanceof ApiError) {
        throw ApiError.badRequest('invalid_query', error.message, error.errors);
      }
      throw error;
    }
  }
}

/**
 * Query strings: unknown keys are refused by name (class-transformer drops `constructor` and
 * `__proto__` before whitelisting could see them), and values are held to the same rules as bodies.
 */
function checkQuery(value: unknown, metadata: ArgumentMetadata): void {
  if (typeof value !== 'object' || value === null) return;
  const known =
    metadata.metatype && metadata.metatype !== Object
      ? new Set(
          getMetadataStorage()
            .getTargetValidationMetadatas(metadata.metatype, '', true, false)
            .map((m) => m.propertyName),
        )
      : new Set<string>();
  const unknown = Object.keys(value).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    const fields = unknown.slice(0, 10).map((key) => ({ field: key.slice(0, 100), message: `${key.slice(0, 100)} is not a known query parameter` }));
    throw ApiError.badRequest('invalid_query', fields.map((f) => f.message).join('; '), fields);
  }
  const problem = findUnacceptableValue(value);
  if (problem) throw ApiError.badRequest('invalid_query', problem.message, [problem]);
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, `${field} is not a known field`).replace(error.property, field),
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
