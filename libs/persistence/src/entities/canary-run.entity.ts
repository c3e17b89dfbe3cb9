import type { CanaryCheck, CanaryGates, CanaryRunState } from '@servable/contracts/admin-api';
import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ModelEntity } from './model.entity';

/**
 * One automated canary analysis. The row is the whole state of the run (step, weight,
 * checks, when the step ends), so any gateway can resume it after a restart; the lease
 * columns say which gateway drives it now.
 */
@Entity({ name: 'canary_run' })
// At most one RUNNING run per model: two would fight over the same rollout row.
@Index('uq_canary_run_running', ['modelId'], { unique: true, where: `"state" = 'RUNNING'` })
@Index('ix_canary_run_model', ['modelId', 'id'])
export class CanaryRunEntity {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'pk_canary_run' })
  id!: number;

  @Column({ name: 'model_id', type: 'int' })
  modelId!: number;

  @ManyToOne(() => ModelEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'model_id', foreignKeyConstraintName: 'fk_canary_run_model' })
  model?: ModelEntity;

  @Column({ name: 'stable_version', type: 'int' })
  stableVersion!: number;

  @Column({ name: 'canary_version', type: 'int' })
  canaryVersion!: number;

  @Column({ type: 'varchar', length: 16 })
  state!: CanaryRunState;

  @Column({ type: 'jsonb' })
  steps!: number[];

  @Column({ name: 'step_seconds', type: 'int' })
  stepSeconds!: number;

  @Column({ type: 'jsonb' })
  gates!: CanaryGates;

  @Column({ type: 'boolean', default: true })
  sticky!: boolean;

  @Column({ name: 'mirror_share', type: 'double precision' })
  mirrorShare!: number;

  @Column({ name: 'max_extensions', type: 'int' })
  maxExtensions!: number;

  @Column({ name: 'step_index', type: 'int', default: 0 })
  stepIndex!: number;

  @Column({ type: 'double precision', default: 0 })
  weight!: number;

  /** Times the current step was extended for lack of requests. */
  @Column({ type: 'int', default: 0 })
  extensions!: number;

  /** Start of the current step's analysis window. */
  @Column({ name: 'window_start', type: 'timestamptz' })
  windowStart!: Date;

  @Column({ name: 'step_ends_at', type: 'timestamptz' })
  stepEndsAt!: Date;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  checks!: CanaryCheck[];

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'started_by', type: 'varchar', length: 160 })
  startedBy!: string;

  @CreateDateColumn({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  /** The gateway driving the run, and until when; another may take over after it. */
  @Column({ name: 'lease_owner', type: 'varchar', length: 160, nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;
}
