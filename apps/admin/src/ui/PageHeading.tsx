import type { ReactNode } from 'react';

export interface PageHeadingProps {
  children: ReactNode;
  /** One sentence under the heading: what this page is for. */
  intro?: ReactNode;
}

/** The page's h1; the shell moves focus to it on navigation, so it takes tabIndex -1. */
export function PageHeading({ children, intro }: PageHeadingProps) {
  return (
    <header className="page-heading">
      <h1 id="page-title" tabIndex={-1}>
        {children}
      </h1>
      {intro && <p className="muted">{intro}</p>}
    </header>
  );
}
