const STORAGE_KEY = 'servable.apiKey';

/**
 * Where the signed-in API key lives. sessionStorage, not localStorage: the key dies with
 * the tab, so a shared laptop does not stay signed in as admin.
 */
export interface KeyStore {
  get(): string | null;
  set(key: string): void;
  clear(): void;
}

export const sessionKeyStore: KeyStore = {
  get: () => sessionStorage.getItem(STORAGE_KEY),
  set: (key) => sessionStorage.setItem(STORAGE_KEY, key),
  clear: () => sessionStorage.removeItem(STORAGE_KEY),
};
