import { cleanup, configure } from '@testing-library/react';
import { afterEach, vi } from 'vitest';

// findBy/waitFor give up after 1 s by default; CI runs the suites of every project on two
// cores, where a first render of the charts can take longer than that.
configure({ asyncUtilTimeout: 5_000 });

// globals: false, so Testing Library cannot register its own cleanup.
afterEach(() => {
  cleanup();
  sessionStorage.clear();
  window.location.hash = '';
  vi.unstubAllGlobals();
});
