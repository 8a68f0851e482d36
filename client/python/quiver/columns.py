"""Columns: the protocol's typed vectors as NumPy arrays, both ways.
Internal to the client."""

import numpy as np

from .errors import QuiverError
from .fb import Column, FieldType

FT = FieldType.FieldType
TYPE_NAMES = {FT.Bool: "bool", FT.Int32: "int32", FT.Int64: "int64", FT.Float32: "float32",
              FT.Float64: "float64", FT.String: "string", FT.Bytes: "bytes",
              FT.Float32Vector: "float32[]"}
NUMPY_TYPES = {FT.Bool: np.bool_, FT.Int32: np.int32, FT.Int64: np.int64, FT.Float32: np.float32,
               FT.Float64: np.float64, FT.Float32Vector: np.float32}


def type_name(field_type, dim):
    return f"float32[{dim}]" if field_type == FT.Float32Vector else TYPE_NAMES[field_type]


def _as_array(value, rows):
    """A generated XAsNumpy() result (0 when the vector is absent)."""
    return value if isinstance(value, np.ndarray) else np.zeros(0)


def decode(column, rows):
    """(name, values, missing) of a wire Column with `rows` rows. Numeric
    values and vectors are NumPy arrays viewing the response buffer (no copy);
    a float32[N] column is an (rows, N) array; strings and bytes are object
    arrays. `missing` is a bool array: True where the value is the default."""
    name = column.Name().decode()
    t = column.Type()
    nulls = column.NullsAsNumpy()
    missing = (nulls.view(np.bool_) if isinstance(nulls, np.ndarray)
               else np.zeros(rows, dtype=np.bool_))
    if t in (FT.String, FT.Bytes):
        offsets = _as_array(column.OffsetsAsNumpy(), rows)
        data = column.DataAsNumpy()
        raw = data.tobytes() if isinstance(data, np.ndarray) else b""
        values = np.empty(rows, dtype=object)
        for i in range(rows):
            piece = raw[offsets[i]:offsets[i + 1]]
            values[i] = piece.decode("utf-8", "replace") if t == FT.String else piece
    elif t == FT.Bool:
        values = _as_array(column.BoolsAsNumpy(), rows).view(np.bool_)
    elif t == FT.Int32:
        values = _as_array(column.I32AsNumpy(), rows)
    elif t == FT.Int64:
        values = _as_array(column.I64AsNumpy(), rows)
    elif t == FT.Float64:
        values = _as_array(column.F64AsNumpy(), rows)
    elif t == FT.Float32:
        values = _as_array(column.F32AsNumpy(), rows)
    elif t == FT.Float32Vector:
        values = _as_array(column.F32AsNumpy(), rows).reshape(rows, column.Dim())
    else:
        raise QuiverError("ProtocolError", f"column {name} has unknown type {t}")
    if len(values) != rows or len(missing) != rows:
        raise QuiverError("ProtocolError", f"column {name} does not have {rows} values")
    return name, values, missing


def encode(builder, name, field_type, dim, values, unset):
    """A wire Column for a Put: `values` one per row (a sequence or array),
    `unset` a bool array (True: the row does not set this field) or None."""
    rows = len(values)
    if field_type in (FT.String, FT.Bytes):
        pieces = [b"" if (unset is not None and unset[i]) else
                  (v.encode() if isinstance(v, str) else bytes(v)) for i, v in enumerate(values)]
        offsets = np.zeros(rows + 1, dtype=np.uint32)
        np.cumsum([len(p) for p in pieces], out=offsets[1:])
        data = builder.CreateNumpyVector(np.frombuffer(b"".join(pieces), dtype=np.uint8))
        offs = builder.CreateNumpyVector(offsets)
    else:
        dtype = NUMPY_TYPES[field_type]
        if unset is not None and unset.any():
            values = [0 if unset[i] else v for i, v in enumerate(values)] if field_type != FT.Float32Vector \
                else [np.zeros(dim) if unset[i] else v for i, v in enumerate(values)]
        array = np.ascontiguousarray(np.asarray(values, dtype=dtype))
        if field_type == FT.Float32Vector:
            if array.ndim != 2 or array.shape != (rows, dim):
                raise QuiverError("InvalidArgument",
                                  f"field {name} is float32[{dim}]: got values of shape {array.shape}")
            array = array.reshape(-1)
        elif array.ndim != 1:
            raise QuiverError("InvalidArgument", f"field {name} takes one value per row")
        if field_type == FT.Bool:
            array = array.view(np.uint8)
        vec = builder.CreateNumpyVector(array)
    nulls = (builder.CreateNumpyVector(np.asarray(unset, dtype=np.uint8))
             if unset is not None and unset.any() else None)
    name_offset = builder.CreateString(name)
    Column.Start(builder)
    Column.AddName(builder, name_offset)
    Column.AddType(builder, field_type)
    Column.AddDim(builder, dim)
    if nulls is not None:
        Column.AddNulls(builder, nulls)
    if field_type in (FT.String, FT.Bytes):
        Column.AddOffsets(builder, offs)
        Column.AddData(builder, data)
    elif field_type == FT.Bool:
        Column.AddBools(builder, vec)
    elif field_type == FT.Int32:
        Column.AddI32(builder, vec)
    elif field_type == FT.Int64:
        Column.AddI64(builder, vec)
    elif field_type == FT.Float64:
        Column.AddF64(builder, vec)
    else:
        Column.AddF32(builder, vec)
    return Column.End(builder)
