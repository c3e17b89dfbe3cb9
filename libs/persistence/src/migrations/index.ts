import { Initial1795744258261 } from './1795744258261-Initial';
import { AddCanaryRuns1796135029080 } from './1796135029080-AddCanaryRuns';

/** In order. Generated with SERVABLE_MIGRATION_NAME=<Name> npm run db:check, then reviewed. */
export const MIGRATIONS: Function[] = [Initial1795744258261, AddCanaryRuns1796135029080];
