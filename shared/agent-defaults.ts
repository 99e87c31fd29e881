// Defaults of the appliance agent that both the validated config and the agent's start-up path
// need; a leaf with no imports, so the agent can read it before loading anything else.

/** KTETHER_HOME when unset. */
export const DEFAULT_KTETHER_HOME = './.ktether';
