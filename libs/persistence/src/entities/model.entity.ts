import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

@Entity({ name: 'model' })
@Unique('uq_model_name', ['name'])
export class ModelEntity {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'pk_model' })
  id!: number;

  @Column({ type: 'varchar', length: 128 })
  name!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
