import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tokenizer.json, named by the sha256 of its bytes, as in the model repository. */
@Entity({ name: 'tokenizer' })
export class TokenizerEntity {
  @PrimaryColumn({ type: 'char', length: 64, primaryKeyConstraintName: 'pk_tokenizer' })
  hash!: string;

  @Column({ name: 'vocab_size', type: 'int' })
  vocabSize!: number;

  @Column({ name: 'size_bytes', type: 'int' })
  sizeBytes!: number;

  /** Relative to the model repository root: tokenizers/<hash>.json. */
  @Column({ type: 'text' })
  path!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
