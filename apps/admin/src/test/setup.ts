import { cleanup } from '@testing-library/react';
import { afterEach, vi } from 'vitest';

// globals: false, so Testing Library cannot register its own cleanup.
afterEach(() => {
  cleanup();
  sessionStorage.clear();
  window.location.hash = '';
  vi.unstubAllGlobals();
});
