import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { ScheduledCallRecord } from '@app/shared/bookings/scheduled-call.record';
import { Page } from '../common/pagination';
import { ResourceId } from '../common/resource-id.pipe';
import { ScheduledCallsOpenApi as Docs } from './scheduled-calls.openapi';
import {
  CancelScheduledCallDto,
  CreateScheduledCallDto,
  JoinScheduledCallDto,
  ListScheduledCallsQuery,
  RescheduleScheduledCallDto,
} from './dto/scheduled-call.dto';
import { ScheduledCallsService } from './scheduled-calls.service';

@ApiTags('scheduled calls')
@ApiBearerAuth()
@Docs.controller()
@Controller('v1/apps/:appId/scheduled-calls')
export class ScheduledCallsController {
  constructor(private readonly calls: ScheduledCallsService) {}

  @Post()
  @HttpCode(201)
  @Docs.create()
  async create(
    @Param('appId') appId: string,
    @Body() dto: CreateScheduledCallDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ScheduledCallRecord> {
    const result = await this.calls.create(appId, dto, idempotencyKey);
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    return result.call;
  }

  @Get()
  @Docs.list()
  list(@Param('appId') appId: string, @Query() query: ListScheduledCallsQuery): Promise<Page<ScheduledCallRecord>> {
    return this.calls.list(appId, query);
  }

  @Get(':id')
  @Docs.get()
  get(@Param('appId') appId: string, @Param('id', ResourceId) id: string): Promise<ScheduledCallRecord> {
    return this.calls.get(appId, id);
  }

  @Post(':id/reschedule')
  @HttpCode(200)
  @Docs.reschedule()
  reschedule(@Param('appId') appId: string, @Param('id', ResourceId) id: string, @Body() dto: RescheduleScheduledCallDto): Promise<ScheduledCallRecord> {
    return this.calls.reschedule(appId, id, dto);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Docs.cancel()
  cancel(@Param('appId') appId: string, @Param('id', ResourceId) id: string, @Body() dto: CancelScheduledCallDto): Promise<ScheduledCallRecord> {
    return this.calls.cancel(appId, id, dto);
  }

  @Post(':id/confirm')
  @HttpCode(200)
  @Docs.confirm()
  confirm(@Param('appId') appId: string, @Param('id', ResourceId) id: string): Promise<ScheduledCallRecord> {
    return this.calls.confirm(appId, id);
  }

  @Post(':id/join')
  @HttpCode(200)
  @Docs.join()
  join(@Param('appId') appId: string, @Param('id', ResourceId) id: string, @Body() dto: JoinScheduledCallDto): Promise<ScheduledCallRecord> {
    return this.calls.join(appId, id, dto);
  }
}
