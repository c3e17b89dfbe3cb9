import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { hashForPath } from './app/router';
import './styles.css';

// A page typed or bookmarked as a path goes to its hash URL, the one the router reads.
const hash = hashForPath(window.location.pathname, window.location.hash);
if (hash) window.history.replaceState(null, '', `/admin/${hash}`);

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
