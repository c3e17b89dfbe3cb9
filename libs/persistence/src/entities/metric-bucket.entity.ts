import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** 10 s of one model version's traffic. Sums and counts only, so replicas' rows add up. */
@Entity({ name: 'metric_bucket' })
@Index('ix_metric_bucket_model', ['model', 'version', 'bucketStart'])
export class MetricBucketEntity {
  @PrimaryColumn({ name: 'bucket_start', type: 'timestamptz', primaryKeyConstraintName: 'pk_metric_bucket' })
  bucketStart!: Date;

  @PrimaryColumn({ type: 'varchar', length: 128, primaryKeyConstraintName: 'pk_metric_bucket' })
  model!: string;

  @PrimaryColumn({ type: 'int', primaryKeyConstraintName: 'pk_metric_bucket' })
  version!: number;

  @Column({ type: 'int', default: 0 })
  requests!: number;

  @Column({ name: 'error_count', type: 'int', default: 0 })
  errorCount!: number;

  /** { "<ErrorCode>": count } */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  errors!: Record<string, number>;

  /** Counts per LATENCY_BOUNDS_MS bucket, the last one open-ended. */
  @Column({ name: 'latency_counts', type: 'int', array: true })
  latencyCounts!: number[];

  @Column({ name: 'latency_ms_sum', type: 'double precision', default: 0 })
  latencyMsSum!: number;

  @Column({ name: 'tokenize_ms_sum', type: 'double precision', default: 0 })
  tokenizeMsSum!: number;

  @Column({ name: 'tokenize_count', type: 'int', default: 0 })
  tokenizeCount!: number;

  @Column({ name: 'inference_ms_sum', type: 'double precision', default: 0 })
  inferenceMsSum!: number;

  @Column({ name: 'inference_count', type: 'int', default: 0 })
  inferenceCount!: number;

  @Column({ name: 'batch_size_sum', type: 'double precision', default: 0 })
  batchSizeSum!: number;

  @Column({ name: 'batch_count', type: 'int', default: 0 })
  batchCount!: number;

  @Column({ name: 'cache_hits', type: 'int', default: 0 })
  cacheHits!: number;

  @Column({ name: 'cache_lookups', type: 'int', default: 0 })
  cacheLookups!: number;

  /** Requests this version answered as a shadow; agreement is the share of rows whose label matched the primary's. */
  @Column({ name: 'shadow_requests', type: 'int', default: 0 })
  shadowRequests!: number;

  @Column({ name: 'shadow_agreement_sum', type: 'double precision', default: 0 })
  shadowAgreementSum!: number;

  @Column({ name: 'shadow_latency_ms_sum', type: 'double precision', default: 0 })
  shadowLatencyMsSum!: number;

  /**
   * Canary-run comparisons, on the canary's row: its requests also sent to stable in the
   * background, and the sum of their agreement with stable's answer (0..1 each).
   */
  @Column({ name: 'compare_requests', type: 'int', default: 0 })
  compareRequests!: number;

  @Column({ name: 'compare_agreement_sum', type: 'double precision', default: 0 })
  compareAgreementSum!: number;
}
