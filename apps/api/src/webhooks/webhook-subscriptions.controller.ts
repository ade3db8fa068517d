import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Page, PageQuery } from '../common/pagination';
import { ResourceId } from '../common/resource-id.pipe';
import {
  CreateWebhookSubscriptionDto,
  ListDeliveriesQuery,
  RecoverDeliveriesDto,
  RecoverDeliveriesResponse,
  ResumeWebhookSubscriptionDto,
  RotateSecretDto,
  SendTestWebhookDto,
  SubscriptionStatsQuery,
  SubscriptionStatsResponse,
  UpdateWebhookSubscriptionDto,
  WebhookDeliveryResponse,
  WebhookSubscriptionResponse,
  WebhookSubscriptionWithSecretResponse,
} from './dto/webhook.dto';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookStatsService } from './webhook-stats.service';
import { WebhookSubscriptionStateService } from './webhook-subscription-state.service';
import { WebhookSubscriptionsOpenApi as Docs } from './webhook-subscriptions.openapi';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';
import { WebhookTestSendsService } from './webhook-test-sends.service';

@ApiTags('webhook subscriptions')
@ApiBearerAuth()
@Docs.controller()
@Controller('v1/apps/:appId/webhook-subscriptions')
export class WebhookSubscriptionsController {
  constructor(
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly state: WebhookSubscriptionStateService,
    private readonly deliveryLog: WebhookDeliveriesService,
    private readonly testSends: WebhookTestSendsService,
    private readonly stats: WebhookStatsService,
  ) {}

  @Post()
  @HttpCode(201)
  @Docs.create()
  create(@Param('appId') appId: string, @Body() dto: CreateWebhookSubscriptionDto): Promise<WebhookSubscriptionWithSecretResponse> {
    return this.subscriptions.create(appId, dto);
  }

  @Get()
  @Docs.list()
  list(@Param('appId') appId: string, @Query() query: PageQuery): Promise<Page<WebhookSubscriptionResponse>> {
    return this.subscriptions.list(appId, query);
  }

  @Get(':subId')
  @Docs.get()
  get(@Param('appId') appId: string, @Param('subId', ResourceId) id: string): Promise<WebhookSubscriptionResponse> {
    return this.subscriptions.get(appId, id);
  }

  @Patch(':subId')
  @Docs.update()
  update(
    @Param('appId') appId: string,
    @Param('subId', ResourceId) id: string,
    @Body() dto: UpdateWebhookSubscriptionDto,
  ): Promise<WebhookSubscriptionResponse> {
    return this.subscriptions.update(appId, id, dto);
  }

  @Delete(':subId')
  @HttpCode(204)
  @Docs.remove()
  remove(@Param('appId') appId: string, @Param('subId', ResourceId) id: string): Promise<void> {
    return this.subscriptions.remove(appId, id);
  }

  @Post(':subId/pause')
  @HttpCode(200)
  @Docs.pause()
  pause(@Param('appId') appId: string, @Param('subId', ResourceId) id: string): Promise<WebhookSubscriptionResponse> {
    return this.state.pause(appId, id);
  }

  @Post(':subId/resume')
  @HttpCode(200)
  @Docs.resume()
  resume(
    @Param('appId') appId: string,
    @Param('subId', ResourceId) id: string,
    @Body() dto: ResumeWebhookSubscriptionDto,
  ): Promise<WebhookSubscriptionResponse> {
    return this.state.resume(appId, id, dto);
  }

  @Post(':subId/rotate-secret')
  @HttpCode(200)
  @Docs.rotateSecret()
  rotateSecret(
    @Param('appId') appId: string,
    @Param('subId', ResourceId) id: string,
    @Body() dto: RotateSecretDto,
  ): Promise<WebhookSubscriptionWithSecretResponse> {
    return this.subscriptions.rotateSecret(appId, id, dto);
  }

  @Post(':subId/recover')
  @HttpCode(202)
  @Docs.recover()
  recover(@Param('appId') appId: string, @Param('subId', ResourceId) id: string, @Body() dto: RecoverDeliveriesDto): Promise<RecoverDeliveriesResponse> {
    return this.state.recover(appId, id, dto);
  }

  @Get(':subId/deliveries')
  @Docs.listDeliveries()
  listDeliveries(
    @Param('appId') appId: string,
    @Param('subId', ResourceId) id: string,
    @Query() query: ListDeliveriesQuery,
  ): Promise<Page<WebhookDeliveryResponse>> {
    return this.deliveryLog.listForSubscription(appId, id, query);
  }

  @Post(':subId/test')
  @HttpCode(202)
  @Docs.sendTest()
  sendTest(@Param('appId') appId: string, @Param('subId', ResourceId) id: string, @Body() dto: SendTestWebhookDto): Promise<WebhookDeliveryResponse> {
    return this.testSends.send(appId, id, dto);
  }

  @Get(':subId/stats')
  @Docs.stats()
  getStats(@Param('appId') appId: string, @Param('subId', ResourceId) id: string, @Query() query: SubscriptionStatsQuery): Promise<SubscriptionStatsResponse> {
    return this.stats.forSubscription(appId, id, query);
  }
}
