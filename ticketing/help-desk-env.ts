// The shapes vendor help-desk variables share (ticketing/<vendor>/<vendor>.config.ts), each with
// the message config loading lists under the variable's name.
import { z } from 'zod';

export const secret = z.string().min(16, 'must be at least 16 characters');
/** A base URL without its trailing slashes. */
export const baseUrl = z.string().url().transform((u) => u.replace(/\/+$/, ''));
export const mailbox = z.email('must be a mail address');
/** The tag or label put on tickets tether opens. */
export const vendorTag = z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/, 'must be one tag without spaces').default('tether');
export const fieldName = z.string().regex(/^[A-Za-z0-9_.]{1,64}$/, 'must be a field name such as customfield_10055');
export const numericId = z.string().regex(/^\d{1,20}$/, 'must be a numeric id');
export const credential = z.string().min(1);

/** Where a help desk keeps the appliance's serial, product and version (field ids or names). */
export interface FieldMapping {
  serial?: string | undefined;
  product?: string | undefined;
  version?: string | undefined;
}
