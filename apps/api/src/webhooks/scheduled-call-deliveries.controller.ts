import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Page, PageQuery } from '../common/pagination';
import { ResourceId } from '../common/resource-id.pipe';
import { WebhookDeliveryResponse } from './dto/webhook.dto';
import { ScheduledCallDeliveriesOpenApi as Docs } from './webhook-deliveries.openapi';
import { WebhookDeliveriesService } from './webhook-deliveries.service';

/** A booking's deliveries, across every subscription: the delivery log seen from the booking. */
@ApiTags('webhook deliveries')
@ApiBearerAuth()
@Docs.controller()
@Controller('v1/apps/:appId/scheduled-calls')
export class ScheduledCallDeliveriesController {
  constructor(private readonly deliveries: WebhookDeliveriesService) {}

  @Get(':id/deliveries')
  @Docs.list()
  list(@Param('appId') appId: string, @Param('id', ResourceId) id: string, @Query() query: PageQuery): Promise<Page<WebhookDeliveryResponse>> {
    return this.deliveries.listForScheduledCall(appId, id, query);
  }
}
