"""Which shard holds a (warehouse, sku) key's state, and which Bytewax worker runs a
shard: the two hashes key-affine state rests on (docs/scaling.md, "Key-affine state").

- A key's **shard** is ``crc32(b"warehouse_id:sku") mod shards`` (CRC-32 as zlib and
  librdkafka compute it). The shard count is the events topic's partition count when the
  recovery store was created, so for a producer keying messages by ``warehouse_id:sku``
  with librdkafka's default partitioner (``consistent_random``: CRC-32 of the key mod
  the partition count; the generator and the storefront's cart use it) a key's shard
  *is* the partition its messages arrive in.
- Bytewax 0.21 runs a keyed step's key on worker ``h mod workers``, where ``h`` is Rust's
  ``DefaultHasher`` (SipHash-1-3 with zero keys) of the key string as Rust hashes a
  ``str`` (its UTF-8 bytes, then the byte 0xFF). :func:`bytewax_worker` computes the
  same, so a process can read exactly the partitions whose shards it runs.

Pure functions; nothing here imports Bytewax.
"""

from __future__ import annotations

import functools
import zlib

_MASK = (1 << 64) - 1


def shard_of(stock_key: str, shards: int) -> int:
    """The shard of ``"warehouse_id:sku"`` among ``shards``."""
    return zlib.crc32(stock_key.encode()) % shards


# Bytewax routes a keyed step's key by its hash mod the worker count, which for a few
# shards' plain names can put every shard on one worker. A shard's key is therefore
# ``shard-<n>.<salt>``, with the smallest salt whose hash is n mod SPREAD: for any worker
# count dividing SPREAD (1-10, 12, 14, 15, 18, 20, 21, 24, 28, 30, ...), shard n runs on
# worker n mod workers, round robin; the names never change with the worker count.
SPREAD = 2520  # lcm(1..10)
_SALTS = (  # the salts of shards 0-127 (tests/unit/test_key_shards.py recomputes them)
    276,
    1463,
    1079,
    629,
    480,
    1097,
    294,
    16000,
    2717,
    97,
    8867,
    1872,
    4243,
    347,
    1464,
    840,
    989,
    1485,
    3368,
    1760,
    1725,
    409,
    5078,
    3105,
    4397,
    226,
    321,
    1095,
    10721,
    932,
    3909,
    2369,
    330,
    376,
    317,
    690,
    3480,
    316,
    5729,
    1900,
    9119,
    5200,
    113,
    4808,
    1801,
    3243,
    1369,
    363,
    1830,
    132,
    83,
    3298,
    833,
    2855,
    11966,
    608,
    428,
    333,
    3743,
    1090,
    133,
    70,
    2197,
    2254,
    112,
    731,
    1608,
    6850,
    629,
    3425,
    2623,
    915,
    78,
    3959,
    1015,
    297,
    1528,
    6861,
    7226,
    80,
    2747,
    714,
    1026,
    671,
    350,
    1859,
    1179,
    1045,
    3313,
    4611,
    1766,
    4429,
    1811,
    764,
    10360,
    282,
    932,
    1014,
    2291,
    2373,
    2522,
    1575,
    964,
    2982,
    1547,
    1819,
    1773,
    529,
    3367,
    1771,
    1650,
    1446,
    1637,
    302,
    619,
    880,
    4086,
    1030,
    1414,
    1283,
    1614,
    848,
    1194,
    188,
    7034,
    4010,
    1038,
    1671,
)


def shard_name(shard: int) -> str:
    """The key of a shard in the flow's keyed step."""
    return f"shard-{shard}.{_salt(shard)}"


def shard_number(name: str) -> int:
    """The shard a :func:`shard_name` names."""
    return int(name.split(".", 1)[0].removeprefix("shard-"))


def _salt(shard: int) -> int:
    if shard < len(_SALTS):
        return _SALTS[shard]
    return find_salt(shard)


@functools.cache
def find_salt(shard: int) -> int:
    """The smallest salt putting ``shard-<n>.<salt>`` at n mod SPREAD (about 2,500 hashes)."""
    salt = 0
    while siphash13(f"shard-{shard}.{salt}".encode() + b"\xff") % SPREAD != shard % SPREAD:
        salt += 1
    return salt


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _MASK


def siphash13(data: bytes, k0: int = 0, k1: int = 0) -> int:
    """SipHash-1-3 (one compression round, three finalisation rounds) of ``data``, as a
    64-bit unsigned integer: Rust's ``DefaultHasher``."""
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n: int) -> None:
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & _MASK
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _MASK
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _MASK
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _MASK
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)

    length = len(data)
    whole = length - length % 8
    for i in range(0, whole, 8):
        m = int.from_bytes(data[i : i + 8], "little")
        v3 ^= m
        rounds(1)
        v0 ^= m
    last = ((length & 0xFF) << 56) | int.from_bytes(data[whole:], "little")
    v3 ^= last
    rounds(1)
    v0 ^= last
    v2 ^= 0xFF
    rounds(3)
    return v0 ^ v1 ^ v2 ^ v3


def bytewax_worker(state_key: str, workers: int) -> int:
    """The worker (0-based, over the whole cluster) Bytewax 0.21 runs ``state_key`` on."""
    return siphash13(state_key.encode() + b"\xff") % workers


def shard_process(shard: int, processes: int, workers_per_process: int) -> int:
    """The process whose worker runs ``shard`` (timely numbers a process's workers
    consecutively: process ``p`` has workers ``p*w .. p*w+w-1``)."""
    worker = bytewax_worker(shard_name(shard), processes * workers_per_process)
    return worker // workers_per_process
