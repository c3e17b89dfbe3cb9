import { ROLES, type Role } from '@servable/contracts/admin-api';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

export { ROLES, type Role };

/** The key itself is never stored: only its sha256 and a prefix to recognise it by. */
@Entity({ name: 'api_key' })
@Unique('uq_api_key_hash', ['keyHash'])
export class ApiKeyEntity {
  @PrimaryGeneratedColumn({ primaryKeyConstraintName: 'pk_api_key' })
  id!: number;

  @Column({ type: 'varchar', length: 128 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  @Column({ name: 'key_hash', type: 'char', length: 64 })
  keyHash!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: Role;

  @Column({ name: 'created_by', type: 'varchar', length: 160 })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
