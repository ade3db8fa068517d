import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath, HeaderObject, ReferenceObject } from '@nestjs/swagger';
import { PROBLEM_DESCRIPTIONS, ProblemStatus } from './openapi-problems';
import { schemaRef } from './openapi-schemas';

/**
 * Error responses a route can answer besides those every route has by construction (see
 * completeProblemResponses), or a more precise description of those: each is an RFC 9457 problem
 * (`application/problem+json`, the `Problem` schema). `true` takes the standard description.
 */
export function ApiProblems(...sets: Array<Partial<Record<ProblemStatus, string | true>>>): MethodDecorator & ClassDecorator {
  const problems: Partial<Record<ProblemStatus, string | true>> = Object.assign({}, ...sets);
  return applyDecorators(
    ...Object.entries(problems).map(([key, text]) => {
      const status = Number(key) as ProblemStatus;
      const description = text === true || text === undefined ? PROBLEM_DESCRIPTIONS[status as Exclude<ProblemStatus, 400>] : text;
      if (!description) throw new Error(`@ApiProblems: describe ${status} in words`);
      return ApiResponse({ status, description });
    }),
  );
}

function itemSchema(item: Type<unknown> | string): ReferenceObject {
  return typeof item === 'string' ? schemaRef(item) : { $ref: getSchemaPath(item) };
}

/** 200 with one page of a cursor-paginated list: `{ data: [...], next_cursor }`. */
export function ApiPageResponse(item: Type<unknown> | string, description: string): MethodDecorator {
  return applyDecorators(
    ...(typeof item === 'string' ? [] : [ApiExtraModels(item)]),
    ApiResponse({
      status: 200,
      description,
      schema: {
        type: 'object',
        required: ['data', 'next_cursor'],
        properties: {
          data: { type: 'array', items: itemSchema(item) },
          next_cursor: { type: ['string', 'null'], description: 'Pass it as `cursor` for the next page; null on the last page.' },
        },
      },
    }),
  );
}

/** A success response carrying one scheduled call (the `ScheduledCall` schema from libs/shared). */
export function ApiScheduledCallResponse(status: 200 | 201, description: string, headers?: Record<string, HeaderObject>): MethodDecorator {
  return ApiResponse({ status, description, schema: schemaRef('ScheduledCall'), ...(headers ? { headers } : {}) });
}
