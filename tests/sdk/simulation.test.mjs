// RunTrigger, SimulateTask and the shape of execution steps through the SDK (issue 26,
// items 4-9): manual JSON data, sample event logs, what simulation validates, execution
// context, the display form of a step's config, and a step's visible inputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerType, NodeType, ExecutionStatus } from "@avaprotocol/types";
import { signedIn } from "./helpers.mjs";

const code = (id, name, source) => ({ id, name, type: NodeType.CustomCode, data: { lang: "javascript", source } });

async function runner(client) {
  return (await client.getWallet({ salt: "0" })).address;
}

test("manual trigger data that is not valid JSON is refused by runTrigger and simulateWorkflow", async () => {
  const { client } = await signedIn();
  const bad = { id: "t", name: "start", type: TriggerType.Manual, data: { data: "{not json", lang: "json" } };
  const refused = await client.runTrigger({ trigger: bad });
  assert.equal(refused.success, false);
  assert.match(refused.error, /Data must be valid JSON:/);
  assert.equal(refused.errorCode, 3001);

  const good = await client.runTrigger({
    trigger: { ...bad, data: { data: '{"a": 1}', lang: "json" } },
  });
  assert.equal(good.success, true, good.error);
  assert.equal(good.data, '{"a": 1}', "a string that parses is kept as the string");

  const execution = await client.simulateWorkflow({
    trigger: bad,
    nodes: [code("n", "after", "return 1")],
    edges: [{ id: "e", source: "t", target: "n" }],
    inputVariables: { settings: { name: "bad-data", runner: await runner(client) } },
  });
  assert.equal(execution.status, ExecutionStatus.Failed);
  assert.equal(execution.steps.length, 1, "no node runs after a refused trigger");
  assert.equal(execution.steps[0].success, false);
  assert.match(execution.steps[0].error, /Data must be valid JSON:/);
  assert.equal(execution.steps[0].errorCode, 3001);
});
