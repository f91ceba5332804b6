"""Property: any valid workflow a client sends comes back unchanged after create → store → get."""

from __future__ import annotations

from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict
from hypothesis import given, settings
from hypothesis import strategies as st

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2
from ap_avs.domain.validation import validate_new_workflow
from ap_avs.domain.workflow_codec import workflow_from_json, workflow_to_json
from ap_avs.store import codec

OWNER = "0x" + "aB" * 20
RUNNER = "0x" + "Cd" * 20
NOW = 1_800_000_000_000

text = st.text(st.characters(codec="ascii", exclude_characters="{}\x00"), max_size=20)
address = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())


@st.composite
def node(draw: st.DrawFn, index: int) -> avs_pb2.TaskNode:
    name = f"n{index}_{draw(st.from_regex(r'[a-z0-9]{0,6}', fullmatch=True))}"
    kind = draw(st.sampled_from(["rest", "code", "graphql", "eth", "filter"]))
    pb = avs_pb2.TaskNode(id=f"id{index}", name=name)
    if kind == "rest":
        pb.type = avs_pb2.NODE_TYPE_REST_API
        cfg = pb.rest_api.config
        cfg.url = draw(st.sampled_from(["https://example.org/a", "http://127.0.0.1:8080/x"]))
        cfg.method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
        cfg.body = draw(text)
        for key, value in draw(
            st.dictionaries(st.from_regex(r"[A-Za-z-]{1,8}", fullmatch=True), text, max_size=3)
        ).items():
            cfg.headers[key] = value
    elif kind == "code":
        pb.type = avs_pb2.NODE_TYPE_CUSTOM_CODE
        pb.custom_code.config.lang = avs_pb2.LANG_JAVASCRIPT
        pb.custom_code.config.source = "return " + str(draw(st.integers(0, 10**6))) + ";"
    elif kind == "graphql":
        pb.type = avs_pb2.NODE_TYPE_GRAPHQL_QUERY
        pb.graphql_query.config.url = "https://example.org/graphql"
        pb.graphql_query.config.query = "query { block { number } }"
        for key, value in draw(
            st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), text, max_size=2)
        ).items():
            pb.graphql_query.config.variables[key] = value
    elif kind == "eth":
        pb.type = avs_pb2.NODE_TYPE_ETH_TRANSFER
        pb.eth_transfer.config.destination = draw(address)
        pb.eth_transfer.config.amount = str(draw(st.integers(1, 10**24)))
    else:
        pb.type = avs_pb2.NODE_TYPE_FILTER
        pb.filter.config.expression = "value > " + str(draw(st.integers(0, 100)))
        pb.filter.config.input_variable = "trigger.data"
    return pb


@st.composite
def request(draw: st.DrawFn) -> avs_pb2.CreateTaskReq:
    count = draw(st.integers(1, 6))
    nodes = [draw(node(i)) for i in range(count)]
    trigger = avs_pb2.TaskTrigger(id="trig", name="trigger", type=avs_pb2.TRIGGER_TYPE_BLOCK)
    trigger.block.config.interval = draw(st.integers(1, 10_000))
    edges = [avs_pb2.TaskEdge(id="e0", source="trig", target=nodes[0].id)]
    for i in range(1, count):
        parent = draw(st.integers(0, i - 1))
        edges.append(avs_pb2.TaskEdge(id=f"e{i}", source=nodes[parent].id, target=nodes[i].id))
    req = avs_pb2.CreateTaskReq(
        trigger=trigger,
        nodes=nodes,
        edges=edges,
        max_execution=draw(st.integers(1, 1000)),
    )
    settings_value = struct_pb2.Value()
    settings_value.struct_value.update({"name": draw(text.filter(str.strip)), "runner": RUNNER})
    req.input_variables["settings"].CopyFrom(settings_value)
    return req


@settings(max_examples=60, deadline=None)
@given(request())
def test_create_store_get_returns_what_was_sent(req: avs_pb2.CreateTaskReq) -> None:
    draft = convert.workflow_from_create_req(req)
    wf = validate_new_workflow(draft, workflow_id="01" + "a" * 24, owner=OWNER, now_ms=NOW)
    stored = workflow_from_json(codec.loads(codec.dumps(workflow_to_json(wf))))
    assert stored == wf
    task = convert.workflow_to_pb(stored)
    assert MessageToDict(task.trigger) == MessageToDict(req.trigger)
    assert [MessageToDict(n) for n in task.nodes] == [MessageToDict(n) for n in req.nodes]
    assert [MessageToDict(e) for e in task.edges] == [MessageToDict(e) for e in req.edges]
    assert task.max_execution == req.max_execution
    assert task.smart_wallet_address.lower() == RUNNER.lower()
