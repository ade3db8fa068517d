import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ResourceId } from '../common/resource-id.pipe';
import { WebhookDeliveryDetailResponse, WebhookDeliveryResponse } from './dto/webhook.dto';
import { WebhookDeliveriesService } from './webhook-deliveries.service';

@ApiTags('webhook deliveries')
@ApiBearerAuth()
@Controller('v1/apps/:appId/webhook-deliveries')
export class WebhookDeliveriesController {
  constructor(private readonly deliveries: WebhookDeliveriesService) {}

  @Get(':deliveryId')
  get(@Param('appId') appId: string, @Param('deliveryId', ResourceId) id: string): Promise<WebhookDeliveryDetailResponse> {
    return this.deliveries.get(appId, id);
  }

  @Post(':deliveryId/retry')
  @HttpCode(202)
  retry(@Param('appId') appId: string, @Param('deliveryId', ResourceId) id: string): Promise<WebhookDeliveryResponse> {
    return this.deliveries.retry(appId, id);
  }
}
