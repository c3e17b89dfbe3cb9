import { SetMetadata } from '@nestjs/common';
import type { Role } from '@servable/persistence';

/** Who may call a handler: a role (or better), or anyone. Unmarked handlers need a client key. */
export type Access = Role | 'public';

export const ACCESS = 'servable:access';

/** `@Access('operator')` on a controller or a handler; the method's mark wins over the class's. */
export const Access = (access: Access) => SetMetadata(ACCESS, access);
