#!/usr/bin/python3
"""Writes seed inputs for frame_fuzzer: valid request frames of every kind,
alone and pipelined, built with the Python code flatc generates from
protocol/quiver.fbs (so seeds always follow the schema).

Usage: make_seeds.py GENERATED_PY_DIR OUT_DIR
"""
import os
import struct
import sys

sys.path.insert(0, sys.argv[1])
import flatbuffers  # noqa: E402
from quiver.fb import (Aggregation, ApplyDefinitions, Column, Delete, DescribeView,  # noqa: E402
                       FieldType, Get, GetAsOf, Hello, History, KeyColumn, ListViews, Ping, Put,
                       Request, RequestBody, TrainingBatch)


def strings(b, values):
    offsets = [b.CreateString(v) for v in values]
    b.StartVector(4, len(offsets), 4)
    for o in reversed(offsets):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


def frame(build_body, body_type, request_id=1):
    b = flatbuffers.Builder(256)
    body = build_body(b)
    Request.Start(b)
    Request.AddId(b, request_id)
    Request.AddBodyType(b, body_type)
    Request.AddBody(b, body)
    b.FinishSizePrefixed(Request.End(b))
    return bytes(b.Output())


def hello(b):
    name = b.CreateString("seed")
    Hello.Start(b); Hello.AddProtocolVersion(b, 1); Hello.AddClientName(b, name)
    return Hello.End(b)


def ping(b):
    payload = b.CreateByteVector(b"seed")
    Ping.Start(b); Ping.AddPayload(b, payload)
    return Ping.End(b)


def apply(b):
    yaml = b.CreateString("views: [{name: w, entity: user, fields: [{name: a, type: int32}]}]")
    ApplyDefinitions.Start(b); ApplyDefinitions.AddYaml(b, yaml)
    return ApplyDefinitions.End(b)


def list_views(b):
    ListViews.Start(b)
    return ListViews.End(b)


def describe(b):
    view = b.CreateString("v@v1")
    DescribeView.Start(b); DescribeView.AddView(b, view)
    return DescribeView.End(b)


def column_i64(b):
    name = b.CreateString("i")
    Column.StartI64Vector(b, 2)
    b.PrependInt64(2); b.PrependInt64(1)
    values = b.EndVector()
    nulls = b.CreateByteVector(b"\x00\x01")
    Column.Start(b); Column.AddName(b, name); Column.AddType(b, FieldType.FieldType.Int64)
    Column.AddNulls(b, nulls); Column.AddI64(b, values)
    return Column.End(b)


def column_string(b):
    name = b.CreateString("s")
    data = b.CreateByteVector(b"dramacomedy")
    Column.StartOffsetsVector(b, 3)
    for v in (11, 5, 0):
        b.PrependUint32(v)
    offsets = b.EndVector()
    Column.Start(b); Column.AddName(b, name); Column.AddType(b, FieldType.FieldType.String)
    Column.AddOffsets(b, offsets); Column.AddData(b, data)
    return Column.End(b)


def column_vec(b):
    name = b.CreateString("vec")
    Column.StartF32Vector(b, 8)
    for i in range(8):
        b.PrependFloat32(float(i))
    values = b.EndVector()
    Column.Start(b); Column.AddName(b, name); Column.AddType(b, FieldType.FieldType.Float32Vector)
    Column.AddDim(b, 4); Column.AddF32(b, values)
    return Column.End(b)


def put(b):
    cols = [column_i64(b), column_string(b), column_vec(b)]
    view = b.CreateString("v")
    keys = strings(b, ["u1", "u2"])
    Put.StartEventTimeMsVector(b, 1)
    b.PrependInt64(1_700_000_000_000)
    times = b.EndVector()
    Put.StartColumnsVector(b, len(cols))
    for c in reversed(cols):
        b.PrependUOffsetTRelative(c)
    columns = b.EndVector()
    Put.Start(b); Put.AddView(b, view); Put.AddKeyParts(b, keys)
    Put.AddEventTimeMs(b, times); Put.AddColumns(b, columns)
    return Put.End(b)


def get(b):
    view = b.CreateString("v")
    fields = strings(b, ["i", "s", "vec"])
    keys = strings(b, ["u1", "u2", "nobody"])
    Get.Start(b); Get.AddView(b, view); Get.AddFields(b, fields); Get.AddKeyParts(b, keys)
    return Get.End(b)


def get_pair(b):
    view = b.CreateString("p")
    keys = strings(b, ["a", "b", "c", "d"])
    Get.Start(b); Get.AddView(b, view); Get.AddKeyParts(b, keys)
    return Get.End(b)


def delete(b):
    view = b.CreateString("v")
    keys = strings(b, ["u1"])
    Delete.Start(b); Delete.AddView(b, view); Delete.AddKeyParts(b, keys)
    return Delete.End(b)


def int64s(b, values):
    b.StartVector(8, len(values), 8)
    for v in reversed(values):
        b.PrependInt64(v)
    return b.EndVector()


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def get_as_of(b, times=(1_700_000_000_000, 1, 1_700_000_000_001)):
    view = b.CreateString("v")
    keys = strings(b, ["u1", "u2", "nobody"])
    times = int64s(b, list(times))
    GetAsOf.Start(b); GetAsOf.AddView(b, view); GetAsOf.AddKeyParts(b, keys)
    GetAsOf.AddAsOfMs(b, times)
    return GetAsOf.End(b)


def history(b, from_ms=0, to_ms=1 << 62, agg=Aggregation.Aggregation.Avg, limit=0):
    view = b.CreateString("v")
    keys = strings(b, ["u1"])
    fields = strings(b, ["i"])
    History.Start(b); History.AddView(b, view); History.AddKeyParts(b, keys)
    History.AddFields(b, fields); History.AddFromMs(b, from_ms); History.AddToMs(b, to_ms)
    History.AddAgg(b, agg); History.AddLimit(b, limit)
    return History.End(b)


def training(b):
    features = strings(b, ["v:i", "p@v1:x", "v:vec"])
    cols = []
    for name, values in (("user_id", ["u1", "u2"]), ("a", ["a", "b"]), ("b", ["c", "d"])):
        n = b.CreateString(name)
        v = strings(b, values)
        KeyColumn.Start(b); KeyColumn.AddName(b, n); KeyColumn.AddValues(b, v)
        cols.append(KeyColumn.End(b))
    TrainingBatch.StartKeysVector(b, len(cols))
    for c in reversed(cols):
        b.PrependUOffsetTRelative(c)
    keys = b.EndVector()
    times = int64s(b, [1_700_000_000_000, 5])
    TrainingBatch.Start(b); TrainingBatch.AddFeatures(b, features); TrainingBatch.AddKeys(b, keys)
    TrainingBatch.AddEventTimeMs(b, times)
    return TrainingBatch.End(b)


RB = RequestBody.RequestBody
seeds = {
    "hello": frame(hello, RB.Hello),
    "ping": frame(ping, RB.Ping),
    "apply": frame(apply, RB.ApplyDefinitions),
    "list_views": frame(list_views, RB.ListViews),
    "describe": frame(describe, RB.DescribeView),
    "put": frame(put, RB.Put),
    "get": frame(get, RB.Get),
    "get_pair": frame(get_pair, RB.Get),
    "delete": frame(delete, RB.Delete),
    "get_as_of": frame(get_as_of, RB.GetAsOf),
    "history": frame(history, RB.History),
    "training": frame(training, RB.TrainingBatch),
    "get_as_of_extremes": frame(lambda b: get_as_of(b, (INT64_MIN, INT64_MAX, -1)), RB.GetAsOf),
    "history_extremes": frame(lambda b: history(b, INT64_MIN, INT64_MAX, Aggregation.Aggregation.Min,
                                                (1 << 32) - 1), RB.History),
}
seeds["pipelined"] = seeds["put"] + seeds["get"] + seeds["delete"] + seeds["get"]
seeds["pipelined_past"] = seeds["put"] + seeds["get_as_of"] + seeds["history"] + seeds["training"]
# A prefix announcing 60 MB with only a few bytes behind it: the reader must
# not allocate ahead of them.
seeds["declared_large"] = struct.pack("<I", 60 << 20) + bytes(64)

os.makedirs(sys.argv[2], exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(sys.argv[2], name), "wb") as f:
        f.write(data)
print(f"make_seeds: {len(seeds)} seeds in {sys.argv[2]}")
