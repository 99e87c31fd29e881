// The few refusals whose words depend on who asked: the CLI names its options, the page names its
// fields. Codes are the same either way; only the one-line reason differs.
import { MIN_PASSWORD_LENGTH } from '../key-acceptance.js';

export const MAX_DESCRIPTION = 4_000;

export type Wording = 'cli' | 'page';

export interface Words {
  descriptionEmpty: string;
  descriptionTooLong: (length: number) => string;
  passwordRule: string;
  passwordRequired: string;
  busy: (pid: number) => string;
  keyEmpty: string;
}

export const WORDS: Readonly<Record<Wording, Words>> = {
  cli: {
    descriptionEmpty: '--description must say what is wrong (e.g. --description "inventory page is blank")',
    descriptionTooLong: () => `--description is longer than ${MAX_DESCRIPTION} characters`,
    passwordRule: `--password must have at least ${MIN_PASSWORD_LENGTH} characters and no line breaks`,
    passwordRequired: 'this key lets the customer choose the support password: give --password PW',
    busy: (pid) => `a tether is already enabled (pid ${pid}): run ktether disable or ktether reset first`,
    keyEmpty: 'key is malformed: expected KT1.<payload>.<signature>',
  },
  page: {
    descriptionEmpty: 'Describe the problem first (for example: "the inventory page is blank").',
    descriptionTooLong: (length) => `The description is too long: ${length} characters, at most ${MAX_DESCRIPTION}.`,
    passwordRule: `Your support password needs at least ${MIN_PASSWORD_LENGTH} characters and no line breaks.`,
    passwordRequired: 'This key lets you choose the support password: pick "My own password" and type one.',
    busy: () => 'A tether is already enabled: disable it first.',
    keyEmpty: 'Paste the tether key from support first (it starts with KT1.).',
  },
};
