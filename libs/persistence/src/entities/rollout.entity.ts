import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { ModelEntity } from './model.entity';

export interface CohortRuleRow {
  header: string;
  value: string;
  version: number;
}

/** One rollout per model. Versions are version numbers of that model. */
@Entity({ name: 'rollout' })
export class RolloutEntity {
  @PrimaryColumn({ name: 'model_id', type: 'int', primaryKeyConstraintName: 'pk_rollout' })
  modelId!: number;

  @OneToOne(() => ModelEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'model_id', foreignKeyConstraintName: 'fk_rollout_model' })
  model?: ModelEntity;

  /** Null: the version the `stable` label points at. */
  @Column({ name: 'stable_version', type: 'int', nullable: true })
  stableVersion!: number | null;

  @Column({ name: 'canary_version', type: 'int', nullable: true })
  canaryVersion!: number | null;

  @Column({ name: 'canary_weight', type: 'double precision', default: 0 })
  canaryWeight!: number;

  @Column({ name: 'cohort_rules', type: 'jsonb', default: () => "'[]'" })
  cohortRules!: CohortRuleRow[];

  @Column({ type: 'boolean', default: true })
  sticky!: boolean;

  @Column({ name: 'shadow_version', type: 'int', nullable: true })
  shadowVersion!: number | null;

  @Column({ name: 'shadow_share', type: 'double precision', default: 0 })
  shadowShare!: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
