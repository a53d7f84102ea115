#!/usr/bin/env node
// `pnpm protocol:gen` writes docs/protocol/protocol.schema.json and the method/event reference tables in
// docs/protocol.md from @gateway/protocol's method table; `pnpm protocol:check` fails when either is stale.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const protocol = await tsImport(join(root, "packages/protocol/src/index.ts"), import.meta.url);

const schemaPath = join(root, "docs/protocol/protocol.schema.json");
const docPath = join(root, "docs/protocol.md");
const START = "<!-- generated:reference:start (pnpm protocol:gen) -->";
const END = "<!-- generated:reference:end -->";

function referenceTables() {
  const schema = protocol.buildProtocolJsonSchema();
  const ref = (part) => (part.$ref ? `\`${part.$ref.replace("#/definitions/", "")}\`` : "inline");
  const lines = [
    "### Methods",
    "",
    "`planned`: the shape is defined for clients and docs, but this gateway does not answer the method yet (it is",
    "absent from `hello-ok.features.methods` and answers `unknown method`).",
    "",
    "| method | status | scope | idempotent retry | params | result | what it does |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const [name, method] of Object.entries(schema.methods)) {
    const result = method.accepted ? `${ref(method.accepted)} then ${ref(method.result)}` : ref(method.result);
    lines.push(
      `| \`${name}\` | ${method.status} | ${method.scope} | ${method.sideEffecting ? "needs `idempotencyKey`" : "—"} | ${ref(method.params)} | ${result} | ${method.description} |`,
    );
  }
  lines.push(
    "",
    "### Events",
    "",
    "| event | status | delivered to | dropped for slow clients | payload | what it means |",
    "|---|---|---|---|---|---|",
  );
  for (const [name, event] of Object.entries(schema.events)) {
    lines.push(
      `| \`${name}\` | ${event.status} | ${event.audience} | ${event.dropIfSlow ? "yes" : "no"} | ${ref(event.payload)} | ${event.description} |`,
    );
  }
  return { schema, tables: lines.join("\n") };
}

const { schema, tables } = referenceTables();
const schemaText = `${JSON.stringify(schema, null, 2)}\n`;
const doc = readFileSync(docPath, "utf8");
const start = doc.indexOf(START);
const end = doc.indexOf(END);
if (start < 0 || end < start) {
  console.error(`✖ ${docPath} lacks the markers ${START} … ${END}`);
  process.exit(1);
}
const docText = `${doc.slice(0, start + START.length)}\n\n${tables}\n\n${doc.slice(end)}`;

const mode = process.argv[2];
if (mode === "write") {
  writeFileSync(schemaPath, schemaText);
  writeFileSync(docPath, docText);
  console.log(`✔ wrote ${schemaPath} and the reference tables of ${docPath}`);
} else if (mode === "check") {
  const stale = [];
  let current = "";
  try {
    current = readFileSync(schemaPath, "utf8");
  } catch {}
  if (current !== schemaText) stale.push(schemaPath);
  if (doc !== docText) stale.push(docPath);
  if (stale.length > 0) {
    console.error(
      `✖ stale generated protocol docs: ${stale.join(", ")}\n  Run \`pnpm protocol:gen\` and commit the result.`,
    );
    process.exit(1);
  }
  console.log("✔ protocol docs are up to date");
} else {
  console.error("usage: protocol-schema.mjs write|check");
  process.exit(2);
}
