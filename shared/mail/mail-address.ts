// The one rule for a recipient address, wherever one enters (the CLI, the API, a help desk's
// requester) and wherever it is used again (the key mail, every notice of the session's life): an
// address one edge accepts must not be refused by a later job.
import { z } from 'zod';

export const mailAddressSchema = z.email('must be a mail address').max(254);

export function isMailAddress(text: string): boolean {
  return mailAddressSchema.safeParse(text).success;
}
