import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Append-only: a trigger in the migration refuses UPDATE and DELETE. */
@Entity({ name: 'audit_event' })
@Index('ix_audit_event_at', ['at'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'pk_audit_event' })
  id!: number;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  /** "key:<id>:<name>" for an API key, "system" for start-up work. */
  @Column({ type: 'varchar', length: 160 })
  actor!: string;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ type: 'varchar', length: 256 })
  target!: string;

  @Column({ type: 'jsonb', nullable: true })
  before!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  after!: unknown;
}
