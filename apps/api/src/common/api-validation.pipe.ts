import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError, FieldError } from './api-error';

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
