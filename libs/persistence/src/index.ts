export { Database, databaseOptionsFromEnv, type DatabaseOptions, type Unlisten } from './database/database';
export * from './entities';
export { TestDatabase } from './testing/test-database';
