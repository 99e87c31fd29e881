// The account-provider interface: how the agent creates and removes the support account on the
// appliance. Implementations: file-accounts (simulation, tests) and linux-accounts (useradd & co).

/** The admin account engineers log in with while a tether is enabled. */
export const SUPPORT_USER = 'kace_support';

export interface AccountProvider {
  readonly kind: 'file' | 'linux';
  exists(name: string): Promise<boolean>;
  /** Creates the account, or resets its password if it is left over; never logs the password. */
  create(name: string, password: string): Promise<void>;
  /** Removes the account and its home; a missing account is not an error. */
  remove(name: string): Promise<void>;
}
