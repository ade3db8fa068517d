import { applyDecorators } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ApiPageResponse, ApiProblems } from '../openapi/openapi-decorators';
import { CreatedVideoAppResponse, VideoAppResponse } from './dto/video-app.dto';

/** The OpenAPI description of VideoAppsController's routes, one decorator per handler. */
const APP_ID = ApiParam({ name: 'appId', description: 'The video app.', schema: { type: 'string', format: 'uuid' } });
const NO_SUCH_APP = { 404: 'No such app for these credentials (`not_found`).' };

export const VideoAppsOpenApi = {
  create: () =>
    applyDecorators(
      ApiOperation({ operationId: 'createApp', summary: 'Create a video app and its first API key' }),
      ApiCreatedResponse({ type: CreatedVideoAppResponse, description: 'The app, with its API key: shown this once.' }),
      ApiProblems({ 403: true }),
    ),

  list: () =>
    applyDecorators(
      ApiOperation({ operationId: 'listApps', summary: 'List video apps' }),
      ApiPageResponse(VideoAppResponse, 'One page of apps, newest first.'),
      ApiProblems({ 403: true }),
    ),

  get: () =>
    applyDecorators(
      APP_ID,
      ApiOperation({ operationId: 'getApp', summary: 'Get a video app' }),
      ApiOkResponse({ type: VideoAppResponse, description: 'The app.' }),
      ApiProblems(NO_SUCH_APP),
    ),

  update: () =>
    applyDecorators(
      APP_ID,
      ApiOperation({ operationId: 'updateApp', summary: 'Update a video app' }),
      ApiOkResponse({ type: VideoAppResponse, description: 'The app after the change.' }),
      ApiProblems(NO_SUCH_APP),
    ),
};
