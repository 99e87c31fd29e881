// Operator roles and the one rule over them (viewer < engineer < admin); the API and the CLI refuse
// with the same one-line reason. Pure: no I/O.
import { z } from 'zod';
import { AppError } from './errors.js';

export const OPERATOR_ROLES = ['viewer', 'engineer', 'admin'] as const;
export const operatorRoleSchema = z.enum(OPERATOR_ROLES);
export type OperatorRole = z.infer<typeof operatorRoleSchema>;

/** Who is asking: a registered operator, the break-glass `admin`, or a CLI user (`cli:<os user>`). */
export interface Operator {
  name: string;
  role: OperatorRole;
}

/** The name of the break-glass operator (TETHER_ADMIN_TOKEN); no registered operator may take it. */
export const BREAK_GLASS_NAME = 'admin';

export function roleAllows(role: OperatorRole, needed: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(needed);
}

/** The refusal line of the contract: `<role> may not <action>: needs <role>`. */
export function roleRefusal(role: OperatorRole, needed: OperatorRole, action: string): string {
  return `${role} may not ${action}: needs ${needed}`;
}

/** Throws `forbidden` when `operator` ranks below `needed`. */
export function checkRole(operator: Operator, needed: OperatorRole, action: string): void {
  if (!roleAllows(operator.role, needed)) throw new AppError('forbidden', roleRefusal(operator.role, needed, action));
}
