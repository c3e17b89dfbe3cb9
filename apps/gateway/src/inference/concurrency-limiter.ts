import { ServableError } from '@servable/contracts';

/**
 * A bound on requests in flight. Past it a request is refused at once with
 * RESOURCE_EXHAUSTED (429 + Retry-After) rather than queued: a queue in front
 * of a saturated service only turns overload into timeouts (TEI's try_acquire_permit).
 */
export class ConcurrencyLimiter {
  private inFlight = 0;

  constructor(readonly max: number) {}

  get current(): number {
    return this.inFlight;
  }

  tryAcquire(): () => void {
    if (this.inFlight >= this.max) {
      throw ServableError.exhausted(`too many concurrent requests (MAX_CONCURRENT_REQUESTS ${this.max}); retry shortly`);
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }
}
