import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant: one video app hosting scheduled calls. */
@Entity({ name: 'video_apps' })
export class VideoApp {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('integer', { name: 'no_show_grace_minutes' })
  noShowGraceMinutes: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}
