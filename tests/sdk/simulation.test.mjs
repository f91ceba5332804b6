// RunTrigger, SimulateTask and the shape of execution steps through the SDK (issue 26,
// items 4-9): manual JSON data, sample event logs, what simulation validates, execution
// context, the display form of a step's config, and a step's visible inputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerFactory, NodeFactory, Edge } from "@avaprotocol/sdk-js";
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

const TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const QUIET = "0x000000000000000000000000000000000000bEEF"; // never emits a log on the devnet
const TRANSFER_ABI = [{
  type: "event", name: "Transfer", anonymous: false,
  inputs: [
    { name: "from", type: "address", indexed: true },
    { name: "to", type: "address", indexed: true },
    { name: "value", type: "uint256", indexed: false },
  ],
}];

test("an event trigger with no real log in range runs on a sample log", async () => {
  const { client } = await signedIn();
  const wallet = await runner(client);
  const trigger = (queries) => ({ id: "t", name: "received", type: TriggerType.Event, data: { queries } });

  const sent = await client.runTrigger({ trigger: trigger([{ addresses: [QUIET], topics: [TRANSFER, wallet, null] }]) });
  assert.equal(sent.success, true, sent.error);
  assert.equal(sent.data.isSample, true);
  assert.match(sent.data.sampleReason, /sample/);
  assert.equal(sent.data.from.toLowerCase(), wallet.toLowerCase());
  assert.equal(sent.data.to, "0x0000000000000000000000000000000000000002");
  assert.equal(sent.data.value, "1500000000000000000");

  const big = await client.runTrigger({
    trigger: trigger([{
      addresses: [QUIET],
      topics: [TRANSFER, null, wallet],
      contractAbi: TRANSFER_ABI,
      conditions: [{ fieldName: "value", operator: "eq", value: "4200", fieldType: "uint256" }],
    }]),
  });
  assert.equal(big.success, true, big.error);
  assert.equal(big.data.from, "0x0000000000000000000000000000000000000001");
  assert.equal(big.data.to.toLowerCase(), wallet.toLowerCase());
  assert.equal(big.data.value, "4200");

  const other = await client.runTrigger({ trigger: trigger([{ addresses: [QUIET], topics: ["0x" + "ab".repeat(32)] }]) });
  assert.equal(other.success, true, other.error);
  assert.equal(other.data.isSample, true);
  assert.equal(other.data.topics[0], "0x" + "ab".repeat(32));

  const execution = await client.simulateWorkflow({
    trigger: trigger([{ addresses: [QUIET], topics: [TRANSFER, null, wallet] }]),
    nodes: [code("n", "amount", "return received.data.value")],
    edges: [{ id: "e", source: "t", target: "n" }],
    inputVariables: { settings: { name: "sample", runner: wallet } },
  });
  assert.equal(execution.status, ExecutionStatus.Success, execution.error);
  assert.equal(execution.steps[0].success, true);
  assert.equal(execution.steps[0].output.isSample, true);
  assert.equal(execution.steps[1].output, "1500000000000000000");
});

test("simulateWorkflow checks only what a run needs; createWorkflow keeps full validation", async () => {
  const { client } = await signedIn();
  const wallet = await runner(client);
  const draft = {
    trigger: { id: "t", name: "later", type: TriggerType.FixedTime, data: { epochsList: [] } },
    nodes: [code("n1", "empty", ""), code("n2", "fine", "return 7")],
    edges: [
      { id: "e1", source: "t", target: "n1" },
      { id: "e2", source: "t", target: "n2" },
    ],
    inputVariables: { settings: { name: "unfinished", runner: wallet } },
  };
  const execution = await client.simulateWorkflow(draft);
  assert.equal(execution.status, ExecutionStatus.PartialSuccess);
  assert.match(execution.error, /empty/);
  assert.equal(execution.steps[0].success, true, "a fixed-time trigger with no epochs still simulates");
  const empty = execution.steps.find((s) => s.name === "empty");
  assert.equal(empty.success, false);
  assert.equal(empty.errorCode, 3006);
  assert.equal(execution.steps.find((s) => s.name === "fine").output, 7);

  await assert.rejects(
    client.simulateWorkflow({ ...draft, inputVariables: { settings: { name: "no-runner" } } }),
    /inputVariables\.settings\.runner is required/,
  );
  await assert.rejects(
    client.simulateWorkflow({ ...draft, nodes: [code("n1", "bad name", "return 1"), draft.nodes[1]] }),
    /node name/,
  );
  const stored = (more) => client.submitWorkflow(client.createWorkflow({
    ...draft,
    trigger: TriggerFactory.create(draft.trigger),
    nodes: draft.nodes.map((n) => NodeFactory.create(n)),
    edges: draft.edges.map((e) => new Edge(e)),
    smartWalletAddress: wallet,
    startAt: 0,
    expiredAt: 0,
    maxExecution: 1,
    name: "x",
    ...more,
  }));
  await assert.rejects(stored({}), /epoch/);
  await assert.rejects(
    stored({ trigger: TriggerFactory.create({ id: "t", name: "later", type: TriggerType.FixedTime, data: { epochsList: [Date.now() + 3600e3] } }) }),
    /source/,
  );
});

test("execution context: chain_rpc for nodes, tenderly for a simulated trigger step", async () => {
  const { client } = await signedIn();
  const wallet = await runner(client);
  const alone = await client.runNodeWithInputs({ node: code("c", "calc", "return 1") });
  assert.deepEqual(alone.executionContext, { isSimulated: false, provider: "chain_rpc", chainId: 31337 });

  const execution = await client.simulateWorkflow({
    trigger: { id: "t", name: "start", type: TriggerType.Manual, data: { data: { a: 1 }, lang: "json" } },
    nodes: [code("n", "calc", "return 1")],
    edges: [{ id: "e", source: "t", target: "n" }],
    inputVariables: { settings: { name: "context", runner: wallet } },
  });
  const [trigger, node] = execution.steps;
  const plain = (context) => JSON.parse(JSON.stringify(context));
  assert.deepEqual(plain(trigger.executionContext), { is_simulated: true, provider: "tenderly", chain_id: 31337 });
  assert.deepEqual(plain(node.executionContext), { is_simulated: false, provider: "chain_rpc", chain_id: 31337 });
});

test("a step shows its config in the display format and lists the inputs it can read", async () => {
  const { client } = await signedIn();
  const wallet = await runner(client);
  const execution = await client.simulateWorkflow({
    trigger: {
      id: "t",
      name: "start",
      type: TriggerType.Manual,
      data: { data: { items: [1, 2] }, headers: { "X-Src": "sdk" }, pathParams: { id: "7" }, lang: "json" },
    },
    nodes: [
      code("n1", "numbers", "return start.data.items"),
      {
        id: "n2",
        name: "each",
        type: NodeType.Loop,
        data: {
          inputVariable: "{{numbers.data}}",
          iterVal: "value",
          iterKey: "index",
          executionMode: "parallel",
          runner: { type: "customCode", config: { lang: "javascript", source: "return value * 2" } },
        },
      },
      {
        id: "n3",
        name: "holdings",
        type: NodeType.Balance,
        data: { address: wallet, chain: "31337", minUsdValue: 12.34, includeZeroBalances: true, tokenAddresses: [] },
      },
    ],
    edges: [
      { id: "e1", source: "t", target: "n1" },
      { id: "e2", source: "n1", target: "n2" },
      { id: "e3", source: "n2", target: "n3" },
    ],
    inputVariables: { settings: { name: "display", runner: wallet }, plain: 5, shaped: { a: 1 } },
  });
  const step = (name) => execution.steps.find((s) => s.name === name);
  assert.equal(step("start").config.lang, "LANG_JSON");
  assert.equal(step("numbers").config.lang, "LANG_JAVASCRIPT");
  const loop = step("each").config;
  assert.equal(loop.executionMode, "parallel");
  assert.deepEqual(loop.runner, { type: "customCode", config: { lang: "LANG_JAVASCRIPT", source: "return value * 2" } });
  assert.deepEqual(step("each").output, [2, 4]);
  const balance = step("holdings").config;
  assert.equal(balance.minUsdValue, 12.34);
  assert.equal(balance.minUsdValueCents, undefined);

  const inputs = step("each").inputsList;
  for (const name of ["start.data", "start.input", "start.headers", "start.pathParams", "numbers.data", "numbers.input", "plain", "shaped", "settings"]) {
    assert.ok(inputs.includes(name), `${name} in ${inputs}`);
  }
  assert.ok(!inputs.includes("start"), "a map with data/input is not listed bare");
  assert.ok(!inputs.includes("each.data"), "a step does not list itself");
});
