"""Just enough of the ONNX format to write a small feed-forward network in memory, for OpenCV's dnn module
to run (``cv2.dnn.readNetFromONNX(buffer)``): graphs of float32 tensors, nodes with int, ints and float
attributes. No dependency: the protocol-buffer encoding is written out here (field numbers from onnx.proto,
which are fixed by the format). tests/test_recognisers.py checks the output with the ``onnx`` package when
it is installed.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

OPSET = 13
IR_VERSION = 7
FLOAT = 1  # TensorProto.DataType
_ATTRIBUTE_FLOAT, _ATTRIBUTE_INT, _ATTRIBUTE_INTS = 1, 2, 7  # AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    if value < 0:
        raise ValueError("negative numbers are not written here")
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _text(number: int, value: str) -> bytes:
    return _bytes(number, value.encode())


def _attribute(name: str, value: int | float | Sequence[int]) -> bytes:
    if isinstance(value, float):
        return _text(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int(20, _ATTRIBUTE_FLOAT)
    if isinstance(value, int):
        return _text(1, name) + _int(3, value) + _int(20, _ATTRIBUTE_INT)
    return _text(1, name) + b"".join(_int(8, v) for v in value) + _int(20, _ATTRIBUTE_INTS)


def _tensor_type(shape: Sequence[int | str]) -> bytes:
    dims = b"".join(_bytes(1, _text(2, d) if isinstance(d, str) else _int(1, d)) for d in shape)
    return _bytes(1, _int(1, FLOAT) + _bytes(2, dims))  # TypeProto.tensor_type: elem_type, shape


@dataclass
class Graph:
    """A graph under construction: ``input``, ``constant`` and ``node`` add to it, ``output`` marks
    results, ``model`` serialises it (an ONNX ModelProto)."""

    name: str
    _nodes: list[bytes] = field(default_factory=list)
    _constants: list[bytes] = field(default_factory=list)
    _inputs: list[bytes] = field(default_factory=list)
    _outputs: list[bytes] = field(default_factory=list)

    def input(self, name: str, shape: Sequence[int | str]) -> str:
        """A float32 input; a ``str`` in ``shape`` is a size given at run time (the batch)."""
        self._inputs.append(_text(1, name) + _bytes(2, _tensor_type(shape)))
        return name

    def constant(self, name: str, value: np.ndarray) -> str:
        """A float32 initializer (weights)."""
        data = np.ascontiguousarray(value, dtype="<f4")
        self._constants.append(b"".join(_int(1, d) for d in data.shape) + _int(2, FLOAT) + _text(8, name)
                               + _bytes(9, data.tobytes()))
        return name

    def node(self, op: str, inputs: Sequence[str], output: str, **attributes: int | float | Sequence[int]) -> str:
        """An operator (ONNX opset 13) with one output."""
        self._nodes.append(b"".join(_text(1, i) for i in inputs) + _text(2, output) + _text(3, output)
                           + _text(4, op) + b"".join(_bytes(5, _attribute(k, v)) for k, v in attributes.items()))
        return output

    def output(self, name: str, shape: Sequence[int | str]) -> str:
        """Marks ``name`` a result of the graph."""
        self._outputs.append(_text(1, name) + _bytes(2, _tensor_type(shape)))
        return name

    def model(self, producer: str = "formkit") -> bytes:
        graph = (b"".join(_bytes(1, n) for n in self._nodes) + _text(2, self.name)
                 + b"".join(_bytes(5, c) for c in self._constants) + b"".join(_bytes(11, i) for i in self._inputs)
                 + b"".join(_bytes(12, o) for o in self._outputs))
        opset = _text(1, "") + _int(2, OPSET)
        return _int(1, IR_VERSION) + _text(2, producer) + _bytes(7, graph) + _bytes(8, opset)
