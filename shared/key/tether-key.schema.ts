// The signed payload of a tether key (`KT1.<payload>.<signature>`). Wire contract between the
// orchestrator and the appliance agent: change only by adding optional fields or bumping `v`.
import { z } from 'zod';

export const PRODUCTS = ['sma', 'sda'] as const;
export const productSchema = z.enum(PRODUCTS);
export type Product = z.infer<typeof productSchema>;

/** Ports an engineer may reach, by product, when the operator names none. */
export const DEFAULT_PORTS: Record<Product, readonly number[]> = { sma: [22, 80, 443, 3306], sda: [22, 80, 443] };

export const serialSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'serial may hold letters, digits, ".", "_" and "-"');

export const portSchema = z.number().int().min(1).max(65535);

/**
 * Support-user password. `escrow`: the agent generates it on the appliance and escrows it sealed to
 * the vendor's custody key (`custody`), so the key carries none. `generated`: shipped in the key
 * (sealed keys; bearer keys minted before escrow, still accepted). `customer`: chosen on the appliance.
 */
export const passwordSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('generated'), value: z.string().min(12) }),
  z.object({ mode: z.literal('customer') }),
  z.object({ mode: z.literal('escrow') }),
]);
export type PasswordSpec = z.infer<typeof passwordSchema>;

/** Secrets sealed to an enrolled appliance's X25519 identity (issue: one-click). */
export const sealedSchema = z.object({
  epk: z.string().min(1),
  iv: z.string().min(1),
  ct: z.string().min(1),
  tag: z.string().min(1),
});

/** One relay as keys name it: where the agent dials and the host-key fingerprint it pins there. */
export const relayEndpointSchema = z.object({
  host: z.string().min(1).max(255),
  port: portSchema,
  fp: z.string().startsWith('SHA256:'),
});
export type RelayEndpoint = z.infer<typeof relayEndpointSchema>;

export const tetherKeyPayloadSchema = z.object({
  v: z.literal(1),
  kid: z.string().min(1).max(64),
  jti: z.string().min(8).max(64),
  sid: z.string().min(8).max(64),
  serial: serialSchema,
  product: productSchema,
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
  relay: relayEndpointSchema,
  /**
   * The fleet's relays, in the order the agent tries them (the first is `relay`); absent: `relay`
   * alone. Agents that predate it read `relay` only, so keys with a fleet still work there.
   */
  relays: z
    .array(relayEndpointSchema)
    .min(1)
    .max(16)
    .optional(),
  ports: z.array(portSchema).min(1).max(16),
  /** base64url Ed25519 seed of the tunnel credential; absent when sealed. */
  cred: z.string().length(43).optional(),
  pw: passwordSchema.optional(),
  sealed: sealedSchema.optional(),
  /** base64url raw X25519 public key the appliance seals an escrowed password to (mode `escrow`). */
  custody: z.string().length(43).optional(),
});
export type TetherKeyPayload = z.infer<typeof tetherKeyPayloadSchema>;
