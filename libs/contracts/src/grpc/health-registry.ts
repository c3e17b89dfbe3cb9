import { BehaviorSubject, Observable, distinctUntilChanged, map } from 'rxjs';
import { ServableError } from '../servable-error';
import type { HealthCheckResponse_ServingStatus as ServingStatus } from './generated/grpc/health/v1/health';

/**
 * Serving status per service name for grpc.health.v1. The empty name is the
 * whole server, as the protocol specifies.
 */
export class HealthRegistry {
  private readonly statuses = new Map<string, BehaviorSubject<ServingStatus>>();

  constructor(services: string[] = []) {
    for (const s of ['', ...services]) this.statuses.set(s, new BehaviorSubject<ServingStatus>('NOT_SERVING'));
  }

  set(status: ServingStatus, service?: string): void {
    const names = service === undefined ? [...this.statuses.keys()] : [service];
    for (const name of names) {
      const subject = this.statuses.get(name);
      if (subject) subject.next(status);
      else this.statuses.set(name, new BehaviorSubject(status));
    }
  }

  check(service: string): ServingStatus {
    const subject = this.statuses.get(service);
    if (!subject) throw ServableError.notFound(`unknown service "${service}"`);
    return subject.value;
  }

  watch(service: string): Observable<{ status: ServingStatus }> {
    const subject = this.statuses.get(service);
    if (!subject) return new BehaviorSubject({ status: 'SERVICE_UNKNOWN' as ServingStatus });
    return subject.pipe(
      distinctUntilChanged(),
      map((status) => ({ status })),
    );
  }
}
