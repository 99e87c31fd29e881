#!/usr/bin/env node
// The `ktether` appliance agent's bin entry; everything lives in appliance/.
import { runKtether } from '../appliance/cli/ktether.js';

process.exitCode = await runKtether(process.argv.slice(2));
