// Every subcommand, in help order. Adding one: a file in this folder exporting a Command, and one line here.
import type { Command } from "../context.js";
import { agentCommand } from "./agent.js";
import { callCommand } from "./call.js";
import { channelsCommand, pairingCommand } from "./channels.js";
import { chatCommand } from "./chat.js";
import { configCommand } from "./config.js";
import { cronCommand } from "./cron.js";
import { devicesCommand } from "./devices.js";
import { discoverCommand } from "./discover.js";
import { doctorCommand } from "./doctor.js";
import { eventsCommand } from "./events.js";
import { healthCommand } from "./health.js";
import { logsCommand } from "./logs.js";
import { nodeCommand } from "./node.js";
import { nodesCommand } from "./nodes.js";
import { pushCommand } from "./push.js";
import { sendCommand } from "./send.js";
import { serviceCommand } from "./service.js";
import { sessionsCommand } from "./sessions.js";
import { statusCommand } from "./status.js";

export const commands: readonly Command[] = [
  statusCommand,
  healthCommand,
  chatCommand,
  agentCommand,
  sessionsCommand,
  channelsCommand,
  pairingCommand,
  devicesCommand,
  nodesCommand,
  nodeCommand,
  sendCommand,
  cronCommand,
  pushCommand,
  callCommand,
  eventsCommand,
  logsCommand,
  configCommand,
  doctorCommand,
  serviceCommand,
  discoverCommand,
];
