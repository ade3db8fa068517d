import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiError } from './api-error';
import { UUID_PATTERN } from '@app/shared/database/uuid';

/** Path ids are UUIDs; anything else cannot name a resource, so it answers 404 like a missing one. */
@Injectable()
export class ResourceId implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID_PATTERN.test(value)) throw ApiError.notFound('Resource');
    return value.toLowerCase();
  }
}
