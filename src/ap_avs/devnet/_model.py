"""The devnet's values: options, the state a running devnet describes, keys and constants."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from eth_account import Account

_ROOT: Final = Path(__file__).resolve().parents[3]
CREATE2_DEPLOYER: Final = "0x4e59b44847b379578588920cA78FbF26c0B4956C"

#: anvil's accounts for "test test ... junk" (the default mnemonic), in order.
ANVIL_KEYS: Final = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)
_DEPLOYER, _CONTROLLER, _EXECUTOR, _UTILITY = 0, 1, 2, 3
_TEST_ACCOUNTS: Final = range(4, 10)

#: (name, symbol, decimals) of the test tokens every devnet has.
LOCAL_TOKENS: Final = (("Test USD", "TUSD", 6), ("Test Token", "TEST", 18))
#: (address, name, symbol, decimals) of the Sepolia tokens placed with sepolia_fixtures.
SEPOLIA_TOKENS: Final = (
    ("0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238", "USDC", "USDC", 6),
    ("0x779877A7B0D9E8603169DdbD7836e478b4624789", "ChainLink Token", "LINK", 18),
    ("0xfFf9976782d46CC05630D1f6eBAb18b2324d6B14", "Wrapped Ether", "WETH", 18),
)
SEPOLIA_ETH_USD_FEED: Final = "0x694AA1769357215DE4FAC081bf1f309aDC325306"
ETH_USD_ANSWER: Final = 3000 * 10**8
_MINT_UNITS: Final = 1_000_000
_STAKE_WEI: Final = 10**18
_PAYMASTER_DEPOSIT_WEI: Final = 100 * 10**18
_UNSTAKE_DELAY_SECONDS: Final = 86_400
_PR_SET_PDEATHSIG: Final = 1


class DevnetError(Exception):
    """The devnet could not start, or one of its processes failed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DevnetOptions:
    """How to run the devnet. ``block_time=None`` mines each transaction at once."""

    chain_id: int = 31337
    port: int = 0
    block_time: float | None = None
    state_file: Path = Path(".devnet/state.json")
    sepolia_fixtures: bool = False
    bundler: bool = True
    eigenlayer: bool = False
    """Also deploy EigenLayer's core and our AVS's operator set (``DevnetState.eigenlayer``)."""
    node_modules: Path = _ROOT / "node_modules"
    artifacts: Path = _ROOT / "contracts" / "artifacts"
    log_dir: Path | None = None
    ready_timeout: float = 60.0
    stop_grace: float = 5.0


@dataclass(frozen=True, slots=True)
class DevAccount:
    """An externally owned account with its key (public test keys only)."""

    address: str
    private_key: str

    @classmethod
    def from_index(cls, index: int) -> DevAccount:
        key = ANVIL_KEYS[index]
        return cls(address=Account.from_key(key).address, private_key=key)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An ERC-20 on the devnet."""

    address: str
    name: str
    symbol: str
    decimals: int


@dataclass(frozen=True, slots=True)
class PriceFeedInfo:
    """A Chainlink-style price feed on the devnet."""

    address: str
    description: str
    decimals: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EigenLayerInfo:
    """EigenLayer's core and our AVS's operator set on the devnet (all checksummed)."""

    delegation_manager: str
    strategy_manager: str
    allocation_manager: str
    avs_directory: str
    permission_controller: str
    proxy_admin: str
    pauser_registry: str
    eigen_pod_manager: str
    avs: str
    """The AVS's account (the devnet deployer): owner of the operator set."""
    registrar: str
    operator_set_id: int
    strategy: str
    stake_token: TokenInfo
    allocation_configuration_delay: int
    """Blocks before a newly set allocation delay takes effect."""
    deallocation_delay: int
    """Blocks before a deallocation takes effect."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EigenLayerInfo:
        values = dict(data)
        values["stake_token"] = TokenInfo(**values["stake_token"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class DevnetState:
    """What a running devnet offers; mirrors the JSON state file."""

    rpc_url: str
    ws_url: str
    chain_id: int
    bundler_url: str | None
    entrypoint: str
    factory: str
    account_implementation: str
    paymaster: str
    paymaster_owner: str
    create2_deployer: str
    price_feed: str
    controller: DevAccount
    deployer: DevAccount
    bundler_executor: DevAccount
    bundler_utility: DevAccount
    test_accounts: tuple[DevAccount, ...]
    tokens: tuple[TokenInfo, ...]
    price_feeds: tuple[PriceFeedInfo, ...]
    startup_seconds: float = 0.0
    logs: tuple[str, ...] = field(default=())
    eigenlayer: EigenLayerInfo | None = None

    def token(self, symbol: str) -> TokenInfo:
        """The token with this symbol. Raises KeyError when there is none."""
        for token in self.tokens:
            if token.symbol == symbol:
                return token
        raise KeyError(symbol)

    def to_json(self) -> dict[str, Any]:
        """The JSON document written to the state file (tokens keyed by symbol)."""
        data = asdict(self)
        data["tokens"] = {t.symbol: asdict(t) for t in self.tokens}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DevnetState:
        """Read the document ``to_json`` writes."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name, f.default)
            if f.name in _ACCOUNT_FIELDS:
                value = DevAccount(**value)
            elif f.name == "test_accounts":
                value = tuple(DevAccount(**a) for a in value)
            elif f.name == "tokens":
                value = tuple(TokenInfo(**t) for t in value.values())
            elif f.name == "price_feeds":
                value = tuple(PriceFeedInfo(**p) for p in value)
            elif f.name == "logs":
                value = tuple(value)
            elif f.name == "eigenlayer" and value is not None:
                value = EigenLayerInfo.from_json(value)
            kwargs[f.name] = value
        return cls(**kwargs)

    @classmethod
    def load(cls, path: Path) -> DevnetState:
        """Read a state file written by a running devnet."""
        return cls.from_json(json.loads(path.read_text()))


_ACCOUNT_FIELDS: Final = ("controller", "deployer", "bundler_executor", "bundler_utility")


# --- child processes -------------------------------------------------------------------------
