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

import zlib

_MASK = (1 << 64) - 1


def shard_of(stock_key: str, shards: int) -> int:
    """The shard of ``"warehouse_id:sku"`` among ``shards``."""
    return zlib.crc32(stock_key.encode()) % shards


def shard_name(shard: int) -> str:
    """The key of a shard in the flow's keyed step (and of its store file)."""
    return f"shard-{shard}"


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
