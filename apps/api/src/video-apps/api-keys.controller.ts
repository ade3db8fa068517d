import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Page, PageQuery } from '../common/pagination';
import { ResourceId } from '../common/resource-id.pipe';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyListResponse, ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse } from './dto/api-key.dto';

const APP_ID = ApiParam({ name: 'appId', description: 'The video app.', schema: { type: 'string', format: 'uuid' } });
const KEY_ID = ApiParam({ name: 'keyId', description: 'The API key (its `id`, not the key).', schema: { type: 'string', format: 'uuid' } });

/** The app's API keys; the operator and the app's own keys may call these. */
@ApiTags('api keys')
@ApiBearerAuth()
@Controller('v1/apps/:appId/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  @APP_ID
  @ApiOperation({ operationId: 'listApiKeys', summary: "List the app's API keys (never the keys themselves)" })
  @ApiOkResponse({ type: ApiKeyListResponse, description: 'One page of keys, newest first, revoked ones included.' })
  list(@Param('appId') appId: string, @Query() query: PageQuery): Promise<Page<ApiKeyResponse>> {
    return this.keys.list(appId, query);
  }

  @Post()
  @HttpCode(201)
  @APP_ID
  @ApiOperation({ operationId: 'createApiKey', summary: 'Create an API key; the key is in this response only' })
  @ApiBody({ type: CreateApiKeyDto, required: false, description: 'Optional: no body creates a key without a name.' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse, description: 'The key, with `api_key` shown this once.' })
  create(@Param('appId') appId: string, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    return this.keys.create(appId, dto);
  }

  @Delete(':keyId')
  @HttpCode(204)
  @APP_ID
  @KEY_ID
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke an API key: every API process refuses it within 1 s; repeating it is a no-op' })
  @ApiNoContentResponse({ description: 'Revoked, or already revoked (its first `revoked_at` stays).' })
  @ApiNotFoundResponse({ description: "No such app for these credentials, or no such key in this app (another app's key too) (`not_found`)." })
  revoke(@Param('appId') appId: string, @Param('keyId', ResourceId) keyId: string): Promise<void> {
    return this.keys.revoke(appId, keyId);
  }
}
