import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ModelEntity } from './model.entity';
import { TokenizerEntity } from './tokenizer.entity';
import { VERSION_STATES, type VersionState } from '@servable/contracts/admin-api';

export { VERSION_STATES, type VersionState };

@Entity({ name: 'model_version' })
@Index('uq_model_version', ['modelId', 'version'], { unique: true })
export class ModelVersionEntity {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'pk_model_version' })
  id!: number;

  @Column({ name: 'model_id', type: 'int' })
  modelId!: number;

  @ManyToOne(() => ModelEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'model_id', foreignKeyConstraintName: 'fk_model_version_model' })
  model?: ModelEntity;

  @Column({ type: 'int' })
  version!: number;

  @Column({ type: 'varchar', length: 32 })
  framework!: string;

  /** Relative to the model repository root: <model>/<version>. */
  @Column({ name: 'artifact_path', type: 'text' })
  artifactPath!: string;

  /** sha256 over the sorted file names and their sha256s (see artifactChecksum). */
  @Column({ name: 'artifact_sha256', type: 'char', length: 64 })
  artifactSha256!: string;

  @Column({ name: 'tokenizer_hash', type: 'char', length: 64 })
  tokenizerHash!: string;

  @ManyToOne(() => TokenizerEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'tokenizer_hash', foreignKeyConstraintName: 'fk_model_version_tokenizer' })
  tokenizer?: TokenizerEntity;

  @Column({ type: 'jsonb' })
  signature!: Record<string, unknown>;

  /** The classes the output scores (servable.json `labels`), not the version labels. */
  @Column({ name: 'class_labels', type: 'jsonb' })
  classLabels!: string[];

  @Column({ name: 'max_length', type: 'int' })
  maxLength!: number;

  @Column({ type: 'jsonb', nullable: true })
  evaluation!: Record<string, unknown> | null;

  /** The whole servable.json, so nothing it said is lost. */
  @Column({ type: 'jsonb' })
  manifest!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16, default: 'START' })
  state!: VersionState;

  @Column({ name: 'state_detail', type: 'text', nullable: true })
  stateDetail!: string | null;

  /** Keep loaded although no label or rollout names it (an upload waiting for its label). */
  @Column({ type: 'boolean', default: false })
  pinned!: boolean;

  @Column({ type: 'varchar', length: 16 })
  source!: 'import' | 'upload';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
