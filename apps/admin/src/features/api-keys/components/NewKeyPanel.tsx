import { useState } from 'react';
import type { CreatedApiKey } from '../../../api/types';

export interface NewKeyPanelProps {
  created: CreatedApiKey;
  onDone: () => void;
}

/** The plaintext key, shown this once: the gateway keeps only its hash. */
export function NewKeyPanel({ created, onDone }: NewKeyPanelProps) {
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  const onCopy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopy('copied');
    } catch {
      // Clipboard access needs a secure context (https or localhost); the key is selectable anyway.
      setCopy('failed');
    }
  };
  return (
    <div className="new-key" role="region" aria-label="New API key" data-testid="new-api-key">
      <p>
        <strong>
          Key “{created.apiKey.name}” ({created.apiKey.role}) created.
        </strong>{' '}
        Copy it now: it will not be shown again.
      </p>
      <code className="secret" data-testid="new-api-key-value">
        {created.key}
      </code>
      <div className="form-actions">
        <button type="button" onClick={() => void onCopy()}>
          Copy key
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Done
        </button>
        <span role="status" className="small">
          {copy === 'copied' ? 'Copied to the clipboard.' : copy === 'failed' ? 'Copying failed; select the key and copy it by hand.' : ''}
        </span>
      </div>
    </div>
  );
}
