import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { VideoApp } from '@app/shared/entities';

const MAX_REMEMBERED = 50_000;

/** Answers "does this app exist?" for the auth guard; apps are never deleted, so a yes is kept. */
@Injectable()
export class VideoAppsDirectory {
  private readonly known = new Set<string>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async exists(appId: string): Promise<boolean> {
    const id = appId.toLowerCase();
    if (this.known.has(id)) return true;
    const found = await this.db.getRepository(VideoApp).existsBy({ id });
    if (found) this.remember(id);
    return found;
  }

  remember(appId: string): void {
    if (this.known.size >= MAX_REMEMBERED) this.known.clear();
    this.known.add(appId);
  }
}
