// The account-provider interface: how the agent creates and removes the support account on the
// appliance. Implementations: file-accounts (simulation, tests) and linux-accounts (useradd & co).

/** The admin account engineers log in with while a tether is enabled. */
export const SUPPORT_USER = 'kace_support';

export interface AccountProvider {
  readonly kind: 'file' | 'linux';
  exists(name: string): Promise<boolean>;
  /**
   * Creates the account, or resets its password if it is left over; never logs the password.
   * `prepared`: what `prepare(password)` made of this very password earlier (skips the hashing).
   */
  create(name: string, password: string, prepared?: string): Promise<void>;
  /**
   * Optional: the expensive part of `create` (the password hash) done ahead, while nothing waits
   * for it. Providers whose tools hash the password themselves leave it out.
   */
  prepare?(password: string): Promise<string>;
  /** Removes the account and its home; a missing account is not an error. */
  remove(name: string): Promise<void>;
}
