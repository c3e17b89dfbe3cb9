import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * One row whose revision every config mutation bumps in its own transaction. Replicas
 * poll it when LISTEN is down, and the row lock orders concurrent admin changes.
 */
@Entity({ name: 'config_state' })
export class ConfigStateEntity {
  @PrimaryColumn({ type: 'int', primaryKeyConstraintName: 'pk_config_state' })
  id!: number;

  @Column({ type: 'int', default: 0 })
  revision!: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
