// What the customer does on their appliance, by product and version: older releases paste the key
// (SMA 10.1 and older: Settings › Support › Troubleshooting Tools; SDA 6.0 and older: Support ›
// Tether); newer ones (SMA 10.2+, SDA 6.1+) paste it the same way or start a tether themselves.
import type { Product } from '../key/tether-key.schema.js';

/** First release with one-click self-initiation, per product. */
export const ONE_CLICK_SINCE: Record<Product, readonly [number, number]> = { sma: [10, 2], sda: [6, 1] };

const PASTE_PATH: Record<Product, string> = {
  sma: 'Settings › Support › Troubleshooting Tools',
  sda: 'Support › Tether',
};

/** [major, minor] of "10.1", "10.1.123" or "6"; undefined when unreadable. */
export function parseVersion(version: string | undefined): [number, number] | undefined {
  const m = /^\s*(\d+)(?:\.(\d+))?/.exec(version ?? '');
  return m ? [Number(m[1]), Number(m[2] ?? 0)] : undefined;
}

/** true: known to support one-click; false: known not to; undefined: version unknown. */
export function supportsOneClick(product: Product, version: string | undefined): boolean | undefined {
  const v = parseVersion(version);
  if (!v) return undefined;
  const [major, minor] = ONE_CLICK_SINCE[product];
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

export interface ApplianceSteps {
  /** Numbered steps to paste the key. */
  paste: string[];
  /** Extra note about self-initiation, when the version has it (or may have it). */
  selfInitiate?: string;
  /** How the customer ends the tether early. */
  disable: string;
}

export function applianceSteps(product: Product, version: string | undefined): ApplianceSteps {
  const path = PASTE_PATH[product];
  const name = product.toUpperCase();
  const paste = [
    `Log in to the ${name} administrator console as an administrator.`,
    `Go to ${path}.`,
    'Choose Enable Tether, paste the whole key into the key field and save. Line breaks and spaces in the pasted key do not matter.',
    'The page shows the tether as connected within a few seconds.',
  ];
  const oneClick = supportsOneClick(product, version);
  const [maj, min] = ONE_CLICK_SINCE[product];
  const selfInitiate =
    oneClick === true
      ? `Your ${name} ${version} can also start a tether by itself, without a key: on the same page choose Enable Tether, describe the problem and confirm.`
      : oneClick === undefined
        ? `If your appliance runs ${name} ${maj}.${min} or newer, it can also start a tether by itself, without a key: on the same page choose Enable Tether, describe the problem and confirm.`
        : undefined;
  return { paste, selfInitiate, disable: `To end the access at any time, go to ${path} and choose Disable Tether.` };
}
