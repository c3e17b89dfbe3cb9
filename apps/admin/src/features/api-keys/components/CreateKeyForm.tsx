import { useState, type FormEvent } from 'react';
import { ROLES, type CreatedApiKey, type Role } from '../../../api/types';
import { InlineError } from '../../../ui/QueryStates';
import { useCreateApiKey } from '../hooks/use-api-keys';
import { NewKeyPanel } from './NewKeyPanel';

export function CreateKeyForm({ onCreated }: { onCreated?: () => void } = {}) {
  const create = useCreateApiKey();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('client');
  const [created, setCreated] = useState<CreatedApiKey | null>(null);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    setCreated(null);
    create.mutate(
      { name: name.trim(), role },
      {
        onSuccess: (c) => {
          setCreated(c);
          setName('');
          onCreated?.();
        },
      },
    );
  };

  return (
    <section className="card" aria-labelledby="create-key-heading">
      <h2 id="create-key-heading">Create a key</h2>
      <form className="inline-form" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor="key-name">Name</label>
          <input id="key-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. billing-service" required />
        </div>
        <div className="field">
          <label htmlFor="key-role">Role</label>
          <select id="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={create.isPending || !name.trim()}>
          Create key
        </button>
      </form>
      <InlineError error={create.error} />
      {created && <NewKeyPanel created={created} onDone={() => setCreated(null)} />}
    </section>
  );
}
