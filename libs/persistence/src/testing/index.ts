export { TestDatabase } from './test-database';
export { SHIPPED_MODELS, copyRepository, uploadOf } from './fixture-repository';
