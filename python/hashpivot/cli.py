"""The ``hashpivot`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import polars as pl

from hashpivot import consensus, history
from hashpivot.exceptions import HashpivotError

__all__ = ["main"]

FAMOUS_BLOCKS: tuple[tuple[int, str], ...] = (
    (0, "genesis"),
    (32_256, "first difficulty change"),
    (210_000, "1st halving"),
    (420_000, "2nd halving"),
    (630_000, "3rd halving"),
    (840_000, "4th halving"),
    (935_424, "Feb 2026 retarget (−11 %)"),
)


def famous_blocks_table() -> pl.DataFrame:
    """Difficulty, target and subsidy of a few famous mainnet blocks, from bundled history."""
    rows = []
    for height, label in FAMOUS_BLOCKS:
        epoch = history.epoch_of_height(height)
        bits = int(epoch["bits"])  # type: ignore[call-overload]
        rows.append(
            {
                "height": height,
                "block": label,
                "bits": f"0x{bits:08x}",
                "difficulty": consensus.bits_to_difficulty(bits),
                "change_vs_prev_epoch": epoch["difficulty_change"],
                "subsidy_btc": consensus.block_subsidy(height) / 1e8,
            }
        )
    return pl.DataFrame(rows)


def _cmd_schedule(args: argparse.Namespace) -> int:
    network = consensus.network_params(args.network)
    sched = consensus.halving_schedule(network=network)
    if not args.all:
        sched = sched.head(args.eras)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, thousands_separator=True, tbl_width_chars=140):
        print(f"Subsidy schedule — {network.name}")
        print(sched)
        print(
            f"Total issuance: {consensus.total_issuance(network=network):,} sat "
            f"({consensus.total_issuance(network=network) / 1e8:,.8f} BTC)"
        )
        if network.name == "mainnet" and not args.no_famous:
            print("\nFamous blocks (difficulty as Bitcoin Core's GetDifficulty)")
            print(famous_blocks_table())
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hashpivot",
        description="Bitcoin mining economics with a consensus-exact core.",
        epilog="examples:\n  hashpivot schedule\n  hashpivot schedule --network regtest --all",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "schedule",
        help="subsidy eras, halving heights and famous blocks' difficulty",
        description="Print the block-subsidy schedule and, on mainnet, famous blocks.",
    )
    s.add_argument(
        "--network", default="mainnet", help="mainnet, testnet3, testnet4, signet, regtest"
    )
    s.add_argument("--eras", type=int, default=8, help="number of eras to show (default 8)")
    s.add_argument("--all", action="store_true", help="show all 34 eras")
    s.add_argument("--no-famous", action="store_true", help="omit the famous-blocks table")
    s.set_defaults(func=_cmd_schedule)
    r = sub.add_parser("run", help="the main job on bundled defaults (currently: schedule)")
    r.set_defaults(func=_cmd_schedule, network="mainnet", eras=8, all=False, no_famous=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 2 usage or input error)."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except HashpivotError as e:
        print(f"hashpivot: error: {e}", file=sys.stderr)
        return 2
