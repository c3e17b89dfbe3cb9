import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { ModelVersionEntity } from './model-version.entity';

/** stable, canary or any [a-zA-Z0-9_]+: one row per (model, label), so a move is one UPDATE. */
@Entity({ name: 'version_label' })
export class VersionLabelEntity {
  @PrimaryColumn({ name: 'model_id', type: 'int', primaryKeyConstraintName: 'pk_version_label' })
  modelId!: number;

  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'pk_version_label' })
  label!: string;

  @Column({ name: 'version_id', type: 'int' })
  versionId!: number;

  @ManyToOne(() => ModelVersionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'version_id', foreignKeyConstraintName: 'fk_version_label_version' })
  modelVersion?: ModelVersionEntity;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
