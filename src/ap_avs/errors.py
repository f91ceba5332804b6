"""The one exception tree of ap-avs.

Every error a user or an operator can cause is raised as one of these classes, with a message
written for the person who reads it. ``aggregator/interceptors.py`` is the only place that turns
them into gRPC status codes; nothing below imports grpc.

    ApAvsError                      base; ``message``, ``error_code``, ``retryable``
    ├── InvalidArgument             the request is wrong: fix it and retry        INVALID_ARGUMENT
    │   ├── ScriptError             a user's JavaScript failed (ap_avs.sandbox)
    │   └── ReportRefused           an operator's trigger report contradicts the chain or
    │                               the schedule (kept as evidence against it)
    ├── Unauthenticated             missing, malformed or expired credentials     UNAUTHENTICATED
    ├── PermissionDenied            authenticated, but not allowed                PERMISSION_DENIED
    ├── NotFound                    no such thing for this caller                 NOT_FOUND
    ├── AlreadyExists               it exists already                             ALREADY_EXISTS
    ├── FailedPrecondition          the state does not allow the call            FAILED_PRECONDITION
    ├── QuotaExceeded               a configured limit was reached                RESOURCE_EXHAUSTED
    ├── Unimplemented               the method is not built                       UNIMPLEMENTED
    ├── Unavailable                 a dependency (chain RPC, bundler) is down     UNAVAILABLE
    │   └── EffectInDoubt           an effect was sent, its outcome is unknown    UNAVAILABLE
    ├── StoreError                  the embedded store failed                     UNAVAILABLE
    │   ├── StoreFullError          the store cannot grow (disk full, max size)   RESOURCE_EXHAUSTED
    │   ├── StoreClosedError        the store was closed (shutting down)          UNAVAILABLE
    │   └── CorruptDataError        a stored record does not decode               DATA_LOSS
    ├── ConfigError                 a configuration file or value is invalid      (start-up only)
    └── InternalError               a bug; the client sees a generic message      INTERNAL

Any other exception escaping a handler is a bug too: the interceptor logs it with an id and the
client sees ``INTERNAL`` with that id, never a traceback.

:class:`ErrorCode` is the wire enum ``ErrorCode`` (PROTOCOL.md §1.3), the one place its numbers
are written; errors and failed steps carry one of its members (0 = none fits).
"""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    """The wire ``ErrorCode`` numbers (same names; ``tests/proto`` checks them against the
    generated code)."""

    UNSPECIFIED = 0
    UNAUTHORIZED = 1000
    FORBIDDEN = 1001
    INVALID_SIGNATURE = 1002
    EXPIRED_TOKEN = 1003
    TASK_NOT_FOUND = 2000
    EXECUTION_NOT_FOUND = 2001
    WALLET_NOT_FOUND = 2002
    SECRET_NOT_FOUND = 2003
    TOKEN_METADATA_NOT_FOUND = 2004
    INVALID_REQUEST = 3000
    INVALID_TRIGGER_CONFIG = 3001
    INVALID_NODE_CONFIG = 3002
    INVALID_WORKFLOW = 3003
    INVALID_ADDRESS = 3004
    INVALID_SIGNATURE_FORMAT = 3005
    MISSING_REQUIRED_FIELD = 3006
    TASK_ALREADY_EXISTS = 4000
    TASK_ALREADY_COMPLETED = 4001
    TASK_ALREADY_CANCELLED = 4002
    EXECUTION_IN_PROGRESS = 4003
    WALLET_ALREADY_EXISTS = 4004
    SECRET_ALREADY_EXISTS = 4005
    RPC_NODE_ERROR = 5000
    TENDERLY_API_ERROR = 5001
    TOKEN_LOOKUP_ERROR = 5002
    SIMULATION_ERROR = 5003
    STORAGE_UNAVAILABLE = 6000
    STORAGE_WRITE_ERROR = 6001
    STORAGE_READ_ERROR = 6002
    TASK_DATA_CORRUPTED = 6003
    EXECUTION_ENGINE_ERROR = 6004
    RATE_LIMIT_EXCEEDED = 7000
    QUOTA_EXCEEDED = 7001
    TOO_MANY_REQUESTS = 7002
    SMART_WALLET_RPC_ERROR = 8000
    SMART_WALLET_NOT_FOUND = 8001
    SMART_WALLET_DEPLOYMENT_ERROR = 8002
    INSUFFICIENT_BALANCE = 8003
    INSUFFICIENT_CREDIT = 8004


class ApAvsError(Exception):
    """Base of every error ap-avs raises on purpose.

    Attributes:
        message: Text for the caller; it must never contain secret values.
        error_code: The wire ``ErrorCode`` number that fits, 0 when none does.
        retryable: True when the same request may succeed later unchanged.
    """

    retryable: bool = False

    def __init__(self, message: str, *, error_code: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code

    def __str__(self) -> str:
        return self.message


class InvalidArgument(ApAvsError):
    """The request is malformed or breaks a rule; the message says which field and why."""


class ReportRefused(InvalidArgument):
    """An operator reported a trigger that did not happen as reported (wrong log, block, fork
    or fire time). The report is kept as evidence; ``reason`` is the short cause."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"trigger report refused: {reason}")
        self.reason = reason


class Unauthenticated(ApAvsError):
    """Credentials are missing, malformed, expired or for another chain."""


class PermissionDenied(ApAvsError):
    """The caller is known but may not do this (e.g. an operator not on the allow-list)."""


class NotFound(ApAvsError):
    """Nothing with this id exists for this caller (someone else's ids look the same)."""


class AlreadyExists(ApAvsError):
    """The thing to create exists already."""


class FailedPrecondition(ApAvsError):
    """The system is not in the state the request needs (e.g. insufficient balance)."""


class QuotaExceeded(ApAvsError):
    """A configured limit was reached (wallets per owner, active workflows, …)."""


class Unimplemented(ApAvsError):
    """The method exists on the wire but is not built in this server."""


class Unavailable(ApAvsError):
    """A dependency such as the chain RPC or the bundler did not answer; retry later."""

    retryable = True


class EffectInDoubt(Unavailable):
    """A step's external effect (a UserOp) was sent but its outcome could not be learnt in
    time. The run is not recorded; it is retried later, and the retry reconciles the step from
    its journal entry instead of sending again."""


class StoreError(ApAvsError):
    """The embedded key-value store failed."""

    retryable = True


class StoreFullError(StoreError):
    """The store cannot grow: the disk is full or the configured maximum size is reached."""

    retryable = False


class StoreClosedError(StoreError):
    """The store is closed, usually because the server is shutting down."""


class CorruptDataError(StoreError):
    """A stored record cannot be decoded."""

    retryable = False


class ConfigError(ApAvsError):
    """A configuration file or value is invalid; the message names the key."""


class InternalError(ApAvsError):
    """A condition that should not happen; the caller sees a generic message."""
