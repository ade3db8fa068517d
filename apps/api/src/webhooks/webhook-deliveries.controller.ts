import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ResourceId } from '../common/resource-id.pipe';
import { WebhookDeliveryDetailResponse, WebhookDeliveryResponse } from './dto/webhook.dto';
import { WebhookDeliveriesOpenApi as Docs } from './webhook-deliveries.openapi';
import { WebhookDeliveriesService } from './webhook-deliveries.service';

@ApiTags('webhook deliveries')
@ApiBearerAuth()
@Docs.controller()
@Controller('v1/apps/:appId/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(private readonly deliveries: WebhookDeliveriesService) {}

  @Get(':deliveryId')
  @Docs.get()
  get(@Param('appId') appId: string, @Param('deliveryId', ResourceId) id: string): Promise<WebhookDeliveryDetailResponse> {
    return this.deliveries.get(appId, id);
  }

  @Post(':deliveryId/retry')
  @HttpCode(202)
  @Docs.retry()
  retry(@Param('appId') appId: string, @Param('deliveryId', ResourceId) id: string): Promise<WebhookDeliveryResponse> {
    return this.deliveries.retry(appId, id);
  }
}
