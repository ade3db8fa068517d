import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { OperatorOnly } from '../common/auth';
import { Page, PageQuery } from '../common/pagination';
import { CreatedVideoAppResponse, CreateVideoAppDto, UpdateVideoAppDto, VideoAppResponse } from './dto/video-app.dto';
import { VideoAppsOpenApi as Docs } from './video-apps.openapi';
import { VideoAppsService } from './video-apps.service';

@ApiTags('apps')
@ApiBearerAuth()
@Controller('v1/apps')
export class VideoAppsController {
  constructor(private readonly apps: VideoAppsService) {}

  @Post()
  @OperatorOnly()
  @HttpCode(201)
  @Docs.create()
  create(@Body() dto: CreateVideoAppDto): Promise<CreatedVideoAppResponse> {
    return this.apps.create(dto);
  }

  @Get()
  @OperatorOnly()
  @Docs.list()
  list(@Query() query: PageQuery): Promise<Page<VideoAppResponse>> {
    return this.apps.list(query);
  }

  @Get(':appId')
  @Docs.get()
  get(@Param('appId') appId: string): Promise<VideoAppResponse> {
    return this.apps.get(appId);
  }

  @Patch(':appId')
  @Docs.update()
  update(@Param('appId') appId: string, @Body() dto: UpdateVideoAppDto): Promise<VideoAppResponse> {
    return this.apps.update(appId, dto);
  }
}
