#!/usr/bin/env node
// `tether`: the operator CLI. Reads the same environment as the server processes (see README).
import { Command, CommanderError } from 'commander';
import { exitQuietlyOnClosedPipe } from '../shared/quiet-pipe.js';
import { packageVersion } from './runtime.js';
import { registerApplianceCommands } from './tether/appliance.command.js';
import { registerCredentialCommands } from './tether/credentials.command.js';
import { registerEngineerCommands } from './tether/engineer.command.js';
import { registerGrantCommands } from './tether/grant.commands.js';
import { registerKeyCommands } from './tether/key.command.js';
import { registerOperatorCommands } from './tether/operator.command.js';
import { runCommand } from './tether/output.js';
import { registerSessionCommands } from './tether/session.commands.js';
import { registerSshConfigCommand } from './tether/ssh-config.command.js';

exitQuietlyOnClosedPipe();

const program = new Command('tether')
  .description('Tether orchestrator operator CLI')
  .version(`tether ${packageVersion()}`, '-V, --version')
  // Program options only before the command: `tether key issue --version 10.1` is the appliance's.
  .enablePositionalOptions()
  .exitOverride()
  // One prefix on every error line, the parser's included ("error: unknown option" → "tether: unknown option").
  .configureOutput({ writeErr: (s) => process.stderr.write(s.replace(/^error: /gm, 'tether: ')) });

registerEngineerCommands(program, runCommand);
registerKeyCommands(program, runCommand);
registerSessionCommands(program, runCommand);
registerSshConfigCommand(program, runCommand);
registerApplianceCommands(program, runCommand);
const session = program.command('session').description('one session: credentials, grants');
registerCredentialCommands(session, runCommand);
registerGrantCommands(session, runCommand);
registerOperatorCommands(program, runCommand);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here with exit code 0; everything else is a usage error.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    throw err;
  }
}
