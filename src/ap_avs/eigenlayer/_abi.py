"""Contract interfaces of EigenLayer: ABI and creation code, read where they ship.

The core contracts (DelegationManager, StrategyManager, AllocationManager, AVSDirectory,
PermissionController) come from the pinned PyPI package ``eigensdk`` as package data
(``eigensdk/contracts/ABI/<Name>.json``), read with :mod:`importlib.resources`. Only that data is
read: the package's Python modules are never imported (its ``crypto`` modules load a native
library at import and exit the process without it). Our local-chain stand-ins come from
``contracts/artifacts``.

:class:`ContractAbi` encodes calls and decodes results by function name, and
:class:`RevertDecoder` turns revert data (custom errors, ``Error(string)``, ``Panic``) into text.

Raises:
    ConfigError: the eigensdk package data or an artifact is missing or not an ABI document.
    InvalidArgument: a call's arguments do not fit the function (:meth:`ContractAbi.encode`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from eth_abi.abi import decode, encode
from eth_abi.exceptions import EncodingError
from eth_utils.abi import (
    abi_to_signature,
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
)
from eth_utils.crypto import keccak

from ap_avs.errors import ConfigError, InvalidArgument

EIGENSDK_PACKAGE: Final = "eigensdk"
CORE_CONTRACTS: Final = (
    "DelegationManager",
    "StrategyManager",
    "AllocationManager",
    "AVSDirectory",
    "PermissionController",
)
_ERROR_STRING: Final = keccak(text="Error(string)")[:4]
_PANIC: Final = keccak(text="Panic(uint256)")[:4]

_STATIC_TOPIC_TYPES: Final = frozenset({"address", "bool", "bytes32"})

Entry = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DecodedLog:
    """One event read from a log: contract, event name, and its arguments by name."""

    contract: str
    event: str
    args: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ContractAbi:
    """One contract's ABI and creation code (empty for an interface)."""

    name: str
    entries: tuple[Entry, ...]
    bytecode: bytes

    def _function(self, name: str, arity: int | None) -> Entry:
        found = [
            e
            for e in self.entries
            if e.get("type") == "function"
            and e.get("name") == name
            and (arity is None or len(e.get("inputs", ())) == arity)
        ]
        if len(found) != 1:
            raise InvalidArgument(
                f"{self.name}.{name}: {'no' if not found else 'more than one'} such function"
                + ("" if arity is None else f" with {arity} arguments")
            )
        return found[0]

    def selector(self, name: str, arity: int | None = None) -> bytes:
        return function_abi_to_4byte_selector(self._function(name, arity))  # type: ignore[arg-type]

    def encode(self, name: str, *args: Any) -> bytes:
        """Calldata of ``name(args)`` (the overload with that many arguments).

        Raises:
            InvalidArgument: no such function, or the arguments do not fit its types.
        """
        entry = self._function(name, len(args))
        types = get_abi_input_types(entry)  # type: ignore[arg-type]
        try:
            return function_abi_to_4byte_selector(entry) + encode(types, list(args))  # type: ignore[arg-type]
        except (EncodingError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"{self.name}.{name}: bad arguments: {exc}") from None

    def decode(self, name: str, raw: bytes, arity: int | None = None) -> tuple[Any, ...]:
        """The return values of ``name`` from ``raw``."""
        entry = self._function(name, arity)
        return tuple(decode(get_abi_output_types(entry), raw))  # type: ignore[arg-type]

    def constructor(self, *args: Any) -> bytes:
        """Creation code followed by the encoded constructor arguments."""
        entry = next((e for e in self.entries if e.get("type") == "constructor"), None)
        types = get_abi_input_types(entry) if entry is not None else []  # type: ignore[arg-type]
        return self.bytecode + encode(types, list(args))

    def event_topics(self) -> dict[bytes, Entry]:
        """Topic 0 of each event, with its ABI entry."""
        return {
            event_abi_to_log_topic(e): e  # type: ignore[arg-type]
            for e in self.entries
            if e.get("type") == "event" and not e.get("anonymous")
        }

    def decode_log(self, topics: Sequence[bytes], data: bytes) -> DecodedLog | None:
        """The event a log carries (None: not one of this contract's events, or malformed)."""
        if not topics:
            return None
        entry = self.event_topics().get(bytes(topics[0]))
        if entry is None:
            return None
        indexed = [i for i in entry["inputs"] if i.get("indexed")]
        plain = [i for i in entry["inputs"] if not i.get("indexed")]
        if len(topics) != len(indexed) + 1:
            return None
        values: dict[str, Any] = {}
        try:
            for item, topic in zip(indexed, topics[1:], strict=True):
                if item["type"] in _STATIC_TOPIC_TYPES or item["type"].startswith(("uint", "int")):
                    (values[item["name"]],) = decode([item["type"]], bytes(topic))
                else:  # a hashed dynamic value: only its hash is there
                    values[item["name"]] = bytes(topic)
            types = get_abi_input_types({"type": "function", "name": "", "inputs": plain})
            for item, value in zip(plain, decode(types, data), strict=True):
                values[item["name"]] = value
        except Exception:  # a log that does not match its ABI: not ours to read
            return None
        return DecodedLog(self.name, str(entry["name"]), values)

    def errors(self) -> dict[bytes, Entry]:
        """Selector of each custom error, with its ABI entry."""
        return {
            keccak(text=abi_to_signature(e))[:4]: e  # type: ignore[arg-type]
            for e in self.entries
            if e.get("type") == "error"
        }


def _parse(name: str, text: str, where: str) -> ContractAbi:
    try:
        document = json.loads(text)
        entries = document["abi"]
        raw = document.get("bytecode") or ""
        if isinstance(raw, Mapping):
            raw = raw.get("object") or ""
        bytecode = bytes.fromhex(str(raw).removeprefix("0x"))
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{where} is not an ABI document: {exc}") from None
    return ContractAbi(name, tuple(entries), bytecode)


def core_abi(name: str) -> ContractAbi:
    """An EigenLayer contract from the installed ``eigensdk`` package data.

    Raises:
        ConfigError: the package or the file is missing.
    """
    try:
        path = resources.files(EIGENSDK_PACKAGE).joinpath("contracts", "ABI", f"{name}.json")
        text = path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise ConfigError(
            f"EigenLayer ABI {name} not found in the {EIGENSDK_PACKAGE} package ({exc}); "
            "install the pinned dependencies (make install)"
        ) from None
    return _parse(name, text, f"{EIGENSDK_PACKAGE} {name}.json")


def artifact_abi(path: Path, name: str | None = None) -> ContractAbi:
    """A contract from an artifact file ``{abi, bytecode}`` (ours, or an npm package's).

    Raises:
        ConfigError: the file is missing or not an ABI document.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"contract artifact {path} cannot be read: {exc.strerror}") from None
    return _parse(name or path.stem, text, str(path))


class RevertDecoder:
    """Names the custom error in revert data, from the ABIs it is given.

    Usage::

        decoder = RevertDecoder([core_abi(n) for n in CORE_CONTRACTS])
        decoder.describe(bytes.fromhex("…"))   # "AllocationManager: NotMemberOfSet()"
    """

    def __init__(self, abis: Iterable[ContractAbi]) -> None:
        self._errors: dict[bytes, tuple[str, Entry]] = {}
        for abi in abis:
            for selector, entry in abi.errors().items():
                self._errors.setdefault(selector, (abi.name, entry))

    def describe(self, data: bytes) -> str:
        """What the revert data says, for a person; ``data`` may be empty."""
        if not data:
            return "reverted without a reason"
        head, body = data[:4], data[4:]
        if head == _ERROR_STRING:
            try:
                (text,) = decode(["string"], body)
            except Exception:  # malformed revert data: show it raw
                return "reverted: 0x" + data.hex()
            return f"reverted: {text}"
        if head == _PANIC:
            try:
                (code,) = decode(["uint256"], body)
            except Exception:
                return "reverted: 0x" + data.hex()
            return f"panicked (code {code:#x})"
        known = self._errors.get(head)
        if known is None:
            return f"reverted with unknown error 0x{data.hex()}"
        contract, entry = known
        types = get_abi_input_types(entry)  # type: ignore[arg-type]
        try:
            values: Sequence[Any] = decode(types, body)
        except Exception:
            values = ()
        shown = ", ".join(_show(v) for v in values)
        return f"{contract}: {entry['name']}({shown})"

    def name(self, data: bytes) -> str | None:
        """The bare name of the custom error in ``data`` (None: not a known custom error)."""
        known = self._errors.get(data[:4]) if len(data) >= 4 else None
        return None if known is None else str(known[1]["name"])


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
