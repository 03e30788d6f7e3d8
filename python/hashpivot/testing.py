"""Helpers for tests, benchmarks and plugin authors.

* :func:`synthetic_chain` mines valid header chains under easy custom parameters (Rust, fast);
* :func:`easy_params` gives such parameters (regtest's proof-of-work limit, retargeting on);
* :func:`mine_header` re-mines one tampered header so that only the intended rule breaks.
"""

from __future__ import annotations

from hashpivot import _core
from hashpivot._core import NetworkParams, RawHeaders
from hashpivot.exceptions import InvalidValueError

__all__ = ["easy_params", "mine_header", "synthetic_chain"]


def easy_params(
    *,
    name: str = "synthetic",
    interval: int = 144,
    spacing: int = 600,
    min_difficulty_blocks: bool = False,
    bip94: bool = False,
) -> NetworkParams:
    """Custom parameters on which a laptop mines thousands of headers a millisecond.

    regtest's proof-of-work limit (about half of all hashes qualify at minimum difficulty),
    ``interval`` blocks per difficulty period, retargeting on, the retarget product in 512
    bits (``overflow="wide"``: regtest's limit times 4·timespan exceeds 256 bits).
    """
    return NetworkParams.custom(
        "regtest",
        name=name,
        pow_target_timespan=interval * spacing,
        pow_target_spacing=spacing,
        no_retargeting=False,
        allow_min_difficulty_blocks=min_difficulty_blocks,
        enforce_bip94=bip94,
        overflow="wide",
    )


def synthetic_chain(n: int, params: NetworkParams | None = None, seed: int = 0) -> RawHeaders:
    """Mine ``n`` consecutive valid headers from a synthetic genesis block (height 0).

    Timestamps are a seeded random walk around the target spacing (some run backwards but
    stay above the median time past), periods alternate between fast and slow so the
    difficulty really retargets, bits follow the consensus rule of ``params`` and every
    nonce is ground until the proof of work holds. Same ``(n, params, seed)``, same bytes.

    Returns :class:`~hashpivot._core.RawHeaders`; pass it to
    :func:`hashpivot.chain.read_headers` / :func:`hashpivot.chain.validate` with
    ``network=params``, or call ``.to_bytes()``.
    """
    if n < 0:
        raise InvalidValueError(f"n: {n} is negative")
    if seed < 0 or seed >= 2**64:
        raise InvalidValueError(f"seed: {seed} is outside 0 … 2^64−1")
    return _core.synthetic_chain(n, params if params is not None else easy_params(), seed)


def mine_header(header: bytes, params: NetworkParams) -> bytes:
    """Grind the nonce of one 80-byte header until its proof of work holds under ``params``."""
    return _core.mine_header(header, params)
