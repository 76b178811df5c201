"""Hand-written TensorBoard event files for the reader tests (TFRecord framing, Event/Summary protobuf fields)."""

from __future__ import annotations

import struct

from lrwb.numerics.lawfit.curves import masked_crc32c


def tfrecord(payload: bytes) -> bytes:
    """One TFRecord: uint64 length, masked CRC-32C of it, the payload, masked CRC-32C of the payload."""
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked_crc32c(header)) + payload + struct.pack("<I", masked_crc32c(payload))


def varint(n: int) -> bytes:
    """Protobuf base-128 varint."""
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def scalar_event(step: int, tag: str, value: float) -> bytes:
    """An Event protobuf holding one scalar summary value."""
    tag_b = tag.encode()
    val = b"\x0a" + varint(len(tag_b)) + tag_b + b"\x15" + struct.pack("<f", value)  # tag 1, simple_value 2
    summary = b"\x0a" + varint(len(val)) + val  # Summary.value 1
    return b"\x10" + varint(step) + b"\x2a" + varint(len(summary)) + summary  # step 2, summary 5
