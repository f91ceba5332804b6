"""The operator's ECDSA key for EigenLayer transactions: from a keystore file, or raw.

An EigenLayer-style keystore is the standard encrypted JSON key file (what ``eigenlayer
operator keys create`` and ``eth_account`` write); its password comes from an environment
variable, never from a command-line argument. A raw key (config ``ecdsa_private_key``) is
accepted in development only.

Raises:
    ConfigError: no key configured, an unreadable or undecryptable keystore, a missing password
        variable, or a raw key in production.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

from eth_account import Account

from ap_avs.errors import ConfigError

PASSWORD_ENV: Final = "AP_AVS_ECDSA_KEY_PASSWORD"
"""The same variable the operator daemon reads (``operator.app.KEY_PASSWORD_ENV``)."""


def load_operator_key(
    *,
    keystore: str | Path | None,
    raw_key: str | None,
    environment: Literal["development", "production"],
    password_env: str = PASSWORD_ENV,
    env: Mapping[str, str] | None = None,
) -> str:
    """The operator's private key (0x-hex): the keystore's if one is given, else the raw key.

    Raises:
        ConfigError: see the module docstring.
    """
    environ = os.environ if env is None else env
    if keystore:
        path = Path(keystore)
        password = environ.get(password_env)
        if password is None:
            raise ConfigError(
                f"keystore {path} needs its password in the environment variable {password_env}"
            )
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read keystore {path}: {exc.strerror or exc}") from None
        except ValueError:
            raise ConfigError(f"keystore {path} is not JSON") from None
        try:
            key = Account.decrypt(document, password)
        except ValueError as exc:
            raise ConfigError(f"cannot decrypt keystore {path}: {exc}") from None
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"cannot decrypt keystore {path}: not a keystore ({exc})") from None
        return "0x" + bytes(key).hex()
    if raw_key:
        if environment == "production":
            raise ConfigError(
                "a raw ecdsa_private_key is for development only: use a keystore "
                f"(ecdsa_private_key_store_path) with its password in {password_env}"
            )
        return raw_key if raw_key.startswith("0x") else "0x" + raw_key
    raise ConfigError(
        "no operator key: set ecdsa_private_key_store_path (keystore, password in "
        f"{password_env}) or, in development, ecdsa_private_key"
    )


def create_keystore(
    path: Path, password: str, private_key: str | None = None, *, iterations: int | None = None
) -> str:
    """Write a new encrypted keystore (0600, scrypt) and return its address; the file must not
    exist. ``iterations`` lowers the scrypt cost (tests only).

    Raises:
        ConfigError: the file exists or cannot be written, or the password is empty.
    """
    if not password:
        raise ConfigError("the keystore password must not be empty")
    account = Account.from_key(private_key) if private_key else Account.create()
    document = Account.encrypt(account.key, password, iterations=iterations)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists already; choose another file") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    return str(account.address)
