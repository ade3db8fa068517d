import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The console's static files, read once at start. They are few and small (tens of KB), and holding
 * them in memory means a request can only ever name a file that was in `public/` at boot: no path
 * from the URL ever reaches the file system.
 */
@Injectable()
export class ConsoleAssetsService {
  private readonly assets = new Map<string, ConsoleAsset>();

  constructor() {
    const dir = join(__dirname, 'public');
    for (const name of readdirSync(dir)) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (!contentType) continue;
      const body = readFileSync(join(dir, name));
      this.assets.set(name, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    }
  }

  find(name: string): ConsoleAsset | undefined {
    return this.assets.get(name);
  }
}
