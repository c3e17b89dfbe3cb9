import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('App', () => {
  it('shows what each service reports', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ ready: true, checks: { tokenizer: 'SERVING', inference: 'SERVING' } }))));
    render(<App />);
    expect(await screen.findByText('Ready')).toBeTruthy();
    expect(screen.getByText('tokenizer')).toBeTruthy();
    expect(screen.getAllByText('SERVING')).toHaveLength(2);
  });

  it('says so when the gateway does not answer', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new Error('connection refused'))));
    render(<App />);
    expect((await screen.findByRole('alert')).textContent).toContain('connection refused');
  });
});
