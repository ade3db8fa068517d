import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '@app/shared/clock/clock';
import { VideoApp } from '@app/shared/entities';
import { ApiError } from '../common/api-error';
import { creationPosition, newestFirst } from '@app/shared/database/keyset';
import { Page, PageQuery, positionAfter, toPage } from '../common/pagination';
import { ApiKeysService } from './api-keys.service';
import { CreatedVideoAppResponse, CreateVideoAppDto, UpdateVideoAppDto, VideoAppResponse } from './dto/video-app.dto';
import { VideoAppsDirectory } from './video-apps.directory';

@Injectable()
export class VideoAppsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly keys: ApiKeysService,
    private readonly directory: VideoAppsDirectory,
    private readonly clock: Clock,
  ) {}

  /** Creates the app and its first API key together. */
  async create(dto: CreateVideoAppDto): Promise<CreatedVideoAppResponse> {
    const now = this.clock.now();
    const app: VideoApp = { id: randomUUID(), name: dto.name, noShowGraceMinutes: dto.no_show_grace_minutes ?? 15, createdAt: now, updatedAt: now };
    const { key: apiKey } = await this.db.transaction(async (manager) => {
      await manager.insert(VideoApp, app);
      return this.keys.issue(manager, app.id, now);
    });
    this.directory.remember(app.id);
    return { ...VideoAppResponse.from(app), api_key: apiKey };
  }

  async get(appId: string): Promise<VideoAppResponse> {
    const app = await this.db.getRepository(VideoApp).findOneBy({ id: appId });
    if (!app) throw ApiError.notFound('App');
    return VideoAppResponse.from(app);
  }

  async list(query: PageQuery): Promise<Page<VideoAppResponse>> {
    const limit = query.limit ?? 20;
    const builder = newestFirst(this.db.getRepository(VideoApp).createQueryBuilder('app'), 'createdAt', limit + 1, positionAfter(query));
    return toPage(await builder.getMany(), limit, VideoAppResponse.from, creationPosition);
  }

  async update(appId: string, dto: UpdateVideoAppDto): Promise<VideoAppResponse> {
    const changes: Partial<VideoApp> = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.no_show_grace_minutes !== undefined) changes.noShowGraceMinutes = dto.no_show_grace_minutes;
    if (Object.keys(changes).length > 0) {
      await this.db.getRepository(VideoApp).update({ id: appId }, { ...changes, updatedAt: this.clock.now() });
    }
    return this.get(appId);
  }
}
