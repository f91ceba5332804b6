// Executions and simulation through the SDK: trigger (blocking and not), read, page, count,
// stats, runNodeWithInputs, runTrigger, simulateWorkflow. REST nodes call the aggregator's
// in-process mock host, so nothing leaves the machine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerFactory, NodeFactory, Edge } from "@avaprotocol/sdk-js";
import { TriggerType, NodeType, ExecutionStatus } from "@avaprotocol/types";
import { signedIn } from "./helpers.mjs";

const MOCK = "https://mock-api.ap-aggregator.local";

const manualTrigger = (data) =>
  TriggerFactory.create({
    id: "trigger1",
    name: "start",
    type: TriggerType.Manual,
    data: { data, lang: "json" },
  });

const code = (id, name, source) =>
  NodeFactory.create({ id, name, type: NodeType.CustomCode, data: { lang: "javascript", source } });

async function submit(client, runner) {
  const workflow = client.createWorkflow({
    name: "sdk-run",
    smartWalletAddress: runner,
    trigger: manualTrigger({ amount: 1 }),
    nodes: [
      code("n1", "double", "return start.data.amount * 2"),
      NodeFactory.create({
        id: "n2",
        name: "notify",
        type: NodeType.RestAPI,
        data: { url: `${MOCK}/notify/{{double.data}}`, method: "GET", body: "", headers: {} },
      }),
    ],
    edges: [
      new Edge({ id: "e1", source: "trigger1", target: "n1" }),
      new Edge({ id: "e2", source: "n1", target: "n2" }),
    ],
    startAt: 0,
    expiredAt: 0,
    maxExecution: 20,
    inputVariables: { settings: { name: "sdk-run", runner } },
  });
  return client.submitWorkflow(workflow);
}

test("trigger blocking and queued, then read, page, count and stats", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const id = await submit(client, runner);

  const done = await client.triggerWorkflow({
    id,
    triggerData: { type: TriggerType.Manual, data: { amount: 21 } },
    isBlocking: true,
  });
  assert.equal(done.status, ExecutionStatus.Success);
  const execution = await client.getExecution(id, done.executionId);
  const notify = execution.steps.find((s) => s.name === "notify");
  assert.equal(notify.success, true);
  assert.equal(notify.output.data.url, "https://mock-api.ap-aggregator.local/notify/42");

  const queued = await client.triggerWorkflow({
    id,
    triggerData: { type: TriggerType.Manual, data: { amount: 2 } },
    isBlocking: false,
  });
  assert.equal(queued.status, ExecutionStatus.Pending);
  const deadline = Date.now() + 20000;
  let status = ExecutionStatus.Pending;
  while (status === ExecutionStatus.Pending && Date.now() < deadline) {
    status = await client.getExecutionStatus(id, queued.executionId);
    if (status === ExecutionStatus.Pending) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status, ExecutionStatus.Success);

  const first = await client.getExecutions([id], { limit: 1 });
  assert.equal(first.items.length, 1);
  assert.equal(first.items[0].id, queued.executionId);
  assert.equal(first.pageInfo.hasNextPage, true);
  const second = await client.getExecutions([id], { limit: 1, after: first.pageInfo.endCursor });
  assert.equal(second.items[0].id, done.executionId);

  assert.equal(await client.getExecutionCount([id]), 2);
  const stats = await client.getExecutionStats({ workflowIds: [id] });
  assert.equal(stats.total, 2);
  assert.equal(stats.succeeded, 2);
});

test("run one node and one trigger without storing anything", async () => {
  const { client } = await signedIn();
  const node = await client.runNodeWithInputs({
    node: { id: "n", name: "calc", type: NodeType.CustomCode, data: { lang: "javascript", source: "return prev.data.n + 1" } },
    inputVariables: { prev: { data: { n: 1 } } },
  });
  assert.equal(node.success, true);
  assert.equal(node.data, 2);
  const trigger = await client.runTrigger({
    trigger: { id: "t", name: "go", type: TriggerType.Manual, data: { data: { hello: "there" }, lang: "json" } },
  });
  assert.equal(trigger.success, true);
  assert.deepEqual(trigger.data, { hello: "there" });
});

test("simulate a workflow with custom code, branch, filter, loop and REST", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const execution = await client.simulateWorkflow({
    trigger: { id: "trigger1", name: "start", type: TriggerType.Manual, data: { data: { items: [3, 14, 15] }, lang: "json" } },
    nodes: [
      { id: "n1", name: "numbers", type: NodeType.CustomCode, data: { lang: "javascript", source: "return start.data.items" } },
      {
        id: "n2",
        name: "check",
        type: NodeType.Branch,
        data: { conditions: [
          { id: "many", type: "if", expression: "{{ numbers.data.length > 2 }}" },
          { id: "few", type: "else", expression: "" },
        ] },
      },
      { id: "n3", name: "big", type: NodeType.Filter, data: { expression: "value > 10", inputVariable: "{{numbers.data}}" } },
      {
        id: "n4",
        name: "each",
        type: NodeType.Loop,
        data: {
          inputVariable: "{{big.data}}",
          iterVal: "value",
          iterKey: "index",
          executionMode: "sequential",
          runner: { type: "restApi", config: { url: `${MOCK}/item/{{value}}`, method: "GET", body: "", headers: {} } },
        },
      },
    ],
    edges: [
      { id: "e1", source: "trigger1", target: "n1" },
      { id: "e2", source: "n1", target: "n2" },
      { id: "e3", source: "n2.many", target: "n3" },
      { id: "e4", source: "n3", target: "n4" },
    ],
    inputVariables: { settings: { name: "simulated", runner } },
  });
  assert.equal(execution.status, ExecutionStatus.Success, execution.error);
  assert.deepEqual(execution.steps.map((s) => s.name), ["start", "numbers", "check", "big", "each"]);
  const each = execution.steps.find((s) => s.name === "each");
  assert.deepEqual(each.output.map((item) => item.data.url), [`${MOCK}/item/14`, `${MOCK}/item/15`]);
  assert.equal(await client.getWorkflowCount([runner]), 0);
});

test("a non-blocking run may already be finished when the client first polls (README compatibility note)", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const id = await submit(client, runner);
  const queued = await client.triggerWorkflow({ id, triggerData: { type: TriggerType.Manual, data: { amount: 3 } }, isBlocking: false });
  assert.equal(queued.status, ExecutionStatus.Pending);
  // Wait for the stored record without asking for the status (liveness guard: 20 s).
  const deadline = Date.now() + 20000;
  while ((await client.getExecutionCount([id])) < 1) {
    assert.ok(Date.now() < deadline, "the queued run did not finish");
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await client.getExecutionStatus(id, queued.executionId), ExecutionStatus.Success, "the first poll sees the finished run");
});
