"""quiver.Client: online features and point-in-time training sets from
quiverd's native protocol, as NumPy arrays and pandas DataFrames."""

import datetime
import json
import os
import sys
import time

import numpy as np

from . import columns
from .errors import QuiverError
from .fb import (ApplyDefinitions, ApplyReply, Checkpoint, CheckpointReply, Compact,
                 CompactReply, Delete, DeleteReply, DescribeView, Get, GetMonitoring, GetReply, GetStatus, KeyColumn, ListViews,
                 MonitoringKind, MonitoringReply, Ping, Put, PutReply, RequestBody, RowState,
                 StatusReply, TrainingBatch, TrainingReply, ViewInfo, ViewList)
from .wire import Connection, WriteIds, body_as, offsets_vector, parse_servers, strings_vector

RB = RequestBody.RequestBody
TIME_COLUMN = "event_timestamp"


class OnlineFeatures(dict):
    """Feature name -> NumPy array (one value per requested entity; a
    float32[N] feature is an (n, N) array viewing the response). Also:
    ``missing[name]``, a bool array (True: the value is the field's default
    because the entity, or its value, is missing or expired), and
    ``found[view]``, a bool array per view."""

    def __init__(self):
        super().__init__()
        self.missing = {}
        self.found = {}
        self.event_time_ms = {}


def _strings(values):
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def _time_ms(values):
    """Unix milliseconds (int64 array) from ints, datetimes, pandas times or
    RFC 3339 strings."""
    import pandas as pd
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(dtype=np.int64)
    try:
        parsed = pd.to_datetime(series, utc=True)
    except (ValueError, TypeError) as e:
        raise QuiverError("InvalidArgument", f"bad event time: {e}") from None
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise QuiverError("InvalidArgument", f"row {row}: missing event time")
    return (parsed.astype("int64") // 1_000_000).to_numpy(dtype=np.int64)


class Client:
    """A connection to quiverd (one thread at a time). ``Client(host, port,
    timeout=seconds, password=None, user=None)``: the user to run as
    (docs/security.md) and its password; without a user, the default one,
    whose password is the server's requirepass. Usable as a context
    manager. A call that finds the
    connection broken reconnects; errors raise QuiverError with the
    server's status code and message.

    A cluster's members: ``Client("a:7070,b:7070")`` or
    ``Client(servers=["a:7070", "b:7070"])``. The client talks to the first
    that answers and moves to the next when its server goes away, sending
    the call again: reads, and writes with their write ids, which the
    cluster applies once. ``read_your_writes=True`` makes every read wait
    (up to ``after_timeout`` seconds) until its server has applied this
    client's own writes (docs/cluster.md#clients).

    Over TLS (quiverd's ``--tls-native-port``): ``tls=`` an
    ``ssl.SSLContext`` that verifies the server, and offers a client
    certificate if the server asks for one, e.g.
    ``ssl.create_default_context(cafile="ca.crt")`` then
    ``load_cert_chain("client.crt", "client.key")`` (docs/security.md)."""

    def __init__(self, host="127.0.0.1", port=7070, timeout=10.0, client_name="quiver-python",
                 password=None, servers=None, read_your_writes=False, after_timeout=1.0,
                 tls=None, user=None):
        self._conn = Connection(parse_servers(host, port, servers), timeout, client_name,
                                password, tls, user)
        self._conn.open()
        self._schemas = {}
        self._write_id = WriteIds()
        self._written = {}  # partition -> newest offset this client's writes reached
        self.read_your_writes = read_your_writes
        self.after_timeout = after_timeout

    def close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def server_version(self):
        return self._conn.server_version

    @property
    def server(self):
        """"host:port" of the server the client talks to now."""
        return f"{self._conn.host}:{self._conn.port}"

    @property
    def written(self):
        """The newest changelog position [(partition, offset)] of each
        partition this client's writes reached (a cluster's; empty
        otherwise): pass them as ``after`` of a read by another client."""
        return sorted(self._written.items())

    def _remember(self, reply):
        positions = [(reply.Positions(i).Partition(), reply.Positions(i).Offset())
                     for i in range(reply.PositionsLength())]
        for partition, offset in positions:
            self._written[partition] = max(offset, self._written.get(partition, -1))
        return positions

    def _read(self, requests, after):
        """Sends read requests, waiting for `after` (and this client's
        writes, with read_your_writes)."""
        wanted = dict(after or [])
        if self.read_your_writes:
            for partition, offset in self._written.items():
                wanted[partition] = max(offset, wanted.get(partition, -1))
        return self._conn.pipeline(requests, sorted(wanted.items()),
                                   int(self.after_timeout * 1000))

    @property
    def durability(self):
        """The server's --durability, or "memory" when it keeps no history."""
        return self._conn.durability

    # ---- definitions ----

    def ping(self):
        def body(b):
            payload = b.CreateByteVector(b"py")
            Ping.Start(b)
            Ping.AddPayload(b, payload)
            return Ping.End(b)
        self._conn.call(RB.Ping, body)

    def apply(self, definitions):
        """Applies feature definitions: a YAML file's path, YAML text, or a
        dict (as the YAML would be). Returns {created, updated, unchanged}."""
        if isinstance(definitions, dict):
            text = json.dumps(definitions)  # JSON is YAML
        elif isinstance(definitions, (str, os.PathLike)) and os.path.isfile(definitions):
            with open(definitions) as f:
                text = f.read()
        else:
            text = str(definitions)

        def body(b):
            yaml = b.CreateString(text)
            ApplyDefinitions.Start(b)
            ApplyDefinitions.AddYaml(b, yaml)
            return ApplyDefinitions.End(b)
        reply = body_as(self._conn.call(RB.ApplyDefinitions, body), ApplyReply.ApplyReply)
        self._schemas.clear()
        return {"created": _strings(reply.Created(i) for i in range(reply.CreatedLength())),
                "updated": _strings(reply.Updated(i) for i in range(reply.UpdatedLength())),
                "unchanged": _strings(reply.Unchanged(i) for i in range(reply.UnchangedLength()))}

    def views(self):
        """Every version of every view, as dicts (see describe)."""
        def body(b):
            ListViews.Start(b)
            return ListViews.End(b)
        reply = body_as(self._conn.call(RB.ListViews, body), ViewList.ViewList)
        return [_view_dict(reply.Views(i)) for i in range(reply.ViewsLength())]

    def describe(self, view):
        """One view: name, version, entity, join_keys, fields (name, type,
        default, description), ttl_ms, freshness_ms, retention_ms, owner,
        description, tags, depends_on."""
        def body(b):
            name = b.CreateString(view)
            DescribeView.Start(b)
            DescribeView.AddView(b, name)
            return DescribeView.End(b)
        return _view_dict(body_as(self._conn.call(RB.DescribeView, body), ViewInfo.ViewInfo))

    # ---- monitoring (docs/monitoring.md) ----

    def stats(self, view):
        """Statistics of the values written to a view, per field, since the
        start and over the recent window: the JSON of GET
        /v1/views/{view}/stats, as a dict."""
        return self._monitoring(MonitoringKind.MonitoringKind.Stats, view)

    def freshness(self):
        """Every view's freshness against its SLA (GET /v1/freshness)."""
        return self._monitoring(MonitoringKind.MonitoringKind.Freshness)

    def drift(self, view="", window="recent"):
        """Drift from the baseline of one view, or of every view with one
        (GET /v1/drift); window "recent" or "since_start"."""
        return self._monitoring(MonitoringKind.MonitoringKind.Drift, view, window)

    def capture_baseline(self, view, window="since_start"):
        """Captures (and stores) a view's drift baseline from a window of its
        statistics; returns what was captured."""
        return self._monitoring(MonitoringKind.MonitoringKind.CaptureBaseline, view, window)

    def clear_baseline(self, view):
        """Forgets a view's captured drift baseline."""
        return self._monitoring(MonitoringKind.MonitoringKind.ClearBaseline, view)

    def _monitoring(self, kind, view="", window=""):
        def body(b):
            view_offset = b.CreateString(view)
            window_offset = b.CreateString(window)
            GetMonitoring.Start(b)
            GetMonitoring.AddKind(b, kind)
            GetMonitoring.AddView(b, view_offset)
            GetMonitoring.AddWindow(b, window_offset)
            return GetMonitoring.End(b)
        reply = body_as(self._conn.call(RB.GetMonitoring, body), MonitoringReply.MonitoringReply)
        return json.loads(reply.Json())

    # ---- operations (docs/operations.md) ----

    def status(self):
        """The server's state, as ``quiver status --json`` prints it: a dict
        of server_version, durability, server_time_ms, rows, memory_bytes,
        window_entities, window_bytes, memory (total, max_memory and each part
        that --max-memory counts: rows, windows, history, clients,
        transactions, dead_letters), kafka (ingestion counters, malformed events by
        kind, freshness percentiles, partitions; None without
        --kafka-brokers), compaction (running, started_ms, finished,
        last_seconds, last_error; None without a history) and cluster (topic,
        replica_id, caught_up, proposed, applied, refused, unapplicable and
        partitions with applied, log_end, lag, waiting, stopped; None on a
        single server: docs/cluster.md)."""
        def body(b):
            GetStatus.Start(b)
            return GetStatus.End(b)
        status = _from_table(
            body_as(self._conn.call(RB.GetStatus, body), StatusReply.StatusReply), _STATUS)
        if status["kafka"]:
            kafka = status["kafka"]
            kafka["malformed"] = {m["kind"]: m["count"] for m in kafka["malformed"]}
        parts = {m["part"]: m["bytes"] for m in status["memory"]}
        status["memory"] = {"total": sum(parts.values()),
                            "max_memory": status.pop("max_memory"), **parts}
        return status

    def checkpoint(self, directory):
        """Writes a copy of the server's whole state into ``directory``, on
        the server's machine (it must not exist yet); returns it as an
        absolute path. quiverd started with --data-dir on (a copy of) it is
        a copy of the server: on a cluster, a new member."""
        def body(b):
            text = b.CreateString(str(directory))
            Checkpoint.Start(b)
            Checkpoint.AddDir(b, text)
            return Checkpoint.End(b)
        # Not sent to another member: the directory is on this one's machine.
        reply = body_as(self._conn.call(RB.Checkpoint, body, move=False),
                        CheckpointReply.CheckpointReply)
        return (reply.Dir() or b"").decode()

    def compact(self, wait=True, poll_seconds=0.2):
        """Compacts the whole history now, which applies every view's
        retention (docs/operations.md#history-and-retention). With wait,
        returns status()["compaction"] once it has finished, and raises
        QuiverError if it failed; without, returns as soon as it started."""
        def body(b):
            Compact.Start(b)
            return Compact.End(b)
        before = body_as(self._conn.call(RB.Compact, body), CompactReply.CompactReply).Finished()
        while wait:
            compaction = self.status()["compaction"] or {}
            if not compaction.get("running") and compaction.get("finished", 0) > before:
                if compaction["last_error"]:
                    raise QuiverError("Internal", "compaction failed: " + compaction["last_error"])
                return compaction
            time.sleep(poll_seconds)
        return None

    def _schema(self, view):
        if view not in self._schemas:
            self._schemas[view] = self.describe(view)
        return self._schemas[view]

    # ---- writes ----

    def put(self, view, rows, event_time=None, batch_rows=10_000):
        """Writes rows of a view: a DataFrame or a list of dicts holding the
        entity's join keys and any fields (a field a row leaves out, or None,
        keeps its value on the server). Event times: ``event_time`` (one for
        all rows: Unix ms, datetime or RFC 3339), else an ``event_timestamp``
        column, else now. Returns {applied, stale, positions}: on a cluster,
        positions are where the rows' records are in the changelog,
        [(partition, offset)] (see ``after`` of the reads). Each request
        carries a write id, so a retry on another member applies once."""
        import pandas as pd
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        schema = self._schema(view)
        fields = {f["name"]: f for f in schema["fields"]}
        for name in frame.columns:
            if name not in fields and name not in schema["join_keys"] and name != TIME_COLUMN:
                raise QuiverError("NotFound", f"view {view} has no field '{name}'")
        for key in schema["join_keys"]:
            if key not in frame.columns:
                raise QuiverError("InvalidArgument", f"the rows have no '{key}' (a join key)")
        if event_time is not None:
            times = _time_ms([event_time])
        elif TIME_COLUMN in frame.columns:
            times = _time_ms(frame[TIME_COLUMN])
        else:
            times = np.zeros(0, dtype=np.int64)
        total = {"applied": 0, "stale": 0}
        requests = []
        for start in range(0, len(frame), batch_rows):
            part = frame.iloc[start:start + batch_rows]
            part_times = times if len(times) <= 1 else times[start:start + batch_rows]
            requests.append((RB.Put, _put_body(view, schema, fields, part, part_times,
                                               self._write_id())))
        positions = {}
        for response in self._conn.pipeline(requests) if requests else []:
            reply = body_as(response, PutReply.PutReply)
            total["applied"] += reply.Applied()
            total["stale"] += reply.Stale()
            for partition, offset in self._remember(reply):
                positions[partition] = max(offset, positions.get(partition, -1))
        total["positions"] = sorted(positions.items())
        return total

    def delete(self, view, keys):
        """Removes the online rows of entities; returns how many existed."""
        parts = _key_parts(self._schema(view)["join_keys"], keys)

        write_id = self._write_id()

        def body(b):
            name = b.CreateString(view)
            key_vec = strings_vector(b, parts)
            wid = b.CreateString(write_id)
            Delete.Start(b)
            Delete.AddView(b, name)
            Delete.AddKeyParts(b, key_vec)
            Delete.AddWriteId(b, wid)
            return Delete.End(b)
        reply = body_as(self._conn.call(RB.Delete, body), DeleteReply.DeleteReply)
        self._remember(reply)
        return reply.Deleted()

    # ---- reads ----

    def get_online_features(self, features, keys, to_df=False, after=None):
        """The current values of features for entities, in one round trip.

        ``features``: a view name (every field) or a list of "view:field" /
        "view@vN:field". ``keys``: the entities, as a list of key values (a
        tuple per entity for several join keys) or a dict {join_key: values}
        (which serves views of different entities at once). Returns
        OnlineFeatures (dict of NumPy arrays), or a DataFrame if to_df.
        ``after``: on a cluster, changelog positions [(partition, offset)]
        (a put's) the server applies before it answers."""
        wanted = _group_features(features)
        requests = []
        for view, named in wanted.items():
            parts = _key_parts(self._schema(view)["join_keys"], keys)
            requests.append((RB.Get, _get_body(view, [field for field, _ in named], parts)))
        result = OnlineFeatures()
        for (view, named), response in zip(wanted.items(), self._read(requests, after)):
            reply = body_as(response, GetReply.GetReply)
            rows = reply.StatesLength()
            states = reply.StatesAsNumpy() if rows else np.zeros(0, dtype=np.uint8)
            result.found[view] = states == RowState.RowState.Found
            result.event_time_ms[view] = (reply.EventTimeMsAsNumpy() if rows
                                          else np.zeros(0, dtype=np.int64))
            for j in range(reply.ColumnsLength()):
                name, values, missing = columns.decode(reply.Columns(j), rows)
                label = named[j][1] if named else name  # as requested; a bare view: field names
                result[label] = values
                result.missing[label] = missing
        if not to_df:
            return result
        import pandas as pd
        key_columns = _key_columns(keys)
        if len({len(v) for v in key_columns.values()}) > 1:
            raise QuiverError("InvalidArgument",
                              "to_df needs the same number of values for every join key")
        frame = pd.DataFrame(key_columns)
        for name, values in result.items():
            frame[name] = list(values) if values.ndim == 2 else values
        return frame

    def get_historical_features(self, labels, features, batch_rows=8192, progress=False):
        """A point-in-time correct training set, joined in the server.

        ``labels``: a DataFrame with the features' join keys, an
        ``event_timestamp`` column (datetimes or Unix ms) and any label
        columns (passed through). ``features``: "view:field" names. Each
        label row gets, per feature, the value of the newest version with
        event time <= its timestamp and within the view's ttl; otherwise the
        field's default, with ``<feature>__missing`` True. Label rows are
        streamed to the server in batches; ``progress`` prints to stderr."""
        features = _as_list(features)
        if TIME_COLUMN not in labels.columns:
            raise QuiverError("InvalidArgument", "the labels have no event_timestamp column")
        needed = []
        for f in features:
            for key in self._schema(_view_of(f))["join_keys"]:
                if key not in needed:
                    needed.append(key)
        for key in needed:
            if key not in labels.columns:
                raise QuiverError("InvalidArgument",
                                  f"the labels have no column '{key}', a join key of the features")
        times = np.asarray(_time_ms(labels[TIME_COLUMN]), dtype=np.int64)
        key_values = {k: np.asarray(labels[k].astype(str).tolist(), dtype=object) for k in needed}
        by_view = {}
        for f in features:
            by_view.setdefault(_view_of(f), []).append(f)
        values, missing = {}, {}
        started = time.monotonic()
        done = 0
        for view, view_features in by_view.items():
            keys = self._schema(view)["join_keys"]
            # Rows sorted by entity, as the server keeps them: its history
            # reads then walk forward through its files.
            order = _entity_order([key_values[k] for k in keys])
            for first, replies in self._training_requests(view_features, keys, key_values,
                                                          times, order, batch_rows):
                for j, f in enumerate(view_features):
                    rows = order[first:first + replies.Rows()]
                    _, part, miss = columns.decode(replies.Columns(j), replies.Rows())
                    if f not in values:
                        values[f] = np.empty((len(labels),) + part.shape[1:], dtype=part.dtype)
                        missing[f] = np.zeros(len(labels), dtype=bool)
                    values[f][rows] = part
                    missing[f][rows] = miss
                done += replies.Rows()
                if progress:
                    _progress(done, len(labels) * len(by_view), started)
        if progress:
            print(file=sys.stderr)
        out = labels.copy()
        for f in features:
            column = values.get(f, np.zeros(0))
            out[f] = list(column) if column.ndim == 2 else column
            out[f + "__missing"] = missing.get(f, np.zeros(0, bool))
        return out

    def _training_requests(self, features, keys, key_values, times, order, batch_rows):
        """Yields (first, TrainingReply) for the rows order[first:...] of
        one view, batch_rows a request, a few requests pipelined."""
        window = 4
        for first in range(0, len(order), batch_rows * window):
            starts = range(first, min(len(order), first + batch_rows * window), batch_rows)
            requests = []
            for start in starts:
                rows = order[start:start + batch_rows]
                requests.append((RB.TrainingBatch, _training_body(
                    features, {k: key_values[k][rows].tolist() for k in keys},
                    times[rows].tolist())))
            for start, response in zip(starts, self._read(requests, None)):
                yield start, body_as(response, TrainingReply.TrainingReply)


# ---- request bodies ----

def _put_body(view, schema, fields, part, times, write_id):
    def body(b):
        cols = []
        for name in part.columns:
            if name not in fields:
                continue
            field = fields[name]
            values = part[name].tolist()
            unset = np.array([v is None or (isinstance(v, float) and np.isnan(v))
                              for v in values], dtype=bool)
            cols.append(columns.encode(b, name, field["type_code"], field["dim"], values, unset))
        parts = [str(v) for row in zip(*(part[k].tolist() for k in schema["join_keys"]))
                 for v in row]
        name = b.CreateString(view)
        key_vec = strings_vector(b, parts)
        time_vec = b.CreateNumpyVector(np.asarray(times, dtype=np.int64)) if len(times) else None
        col_vec = offsets_vector(b, cols)
        wid = b.CreateString(write_id)
        Put.Start(b)
        Put.AddWriteId(b, wid)
        Put.AddView(b, name)
        Put.AddKeyParts(b, key_vec)
        if time_vec is not None:
            Put.AddEventTimeMs(b, time_vec)
        Put.AddColumns(b, col_vec)
        return Put.End(b)
    return body


def _get_body(view, fields, parts):
    def body(b):
        name = b.CreateString(view)
        field_vec = strings_vector(b, fields)
        key_vec = strings_vector(b, parts)
        Get.Start(b)
        Get.AddView(b, name)
        Get.AddFields(b, field_vec)
        Get.AddKeyParts(b, key_vec)
        return Get.End(b)
    return body


def _training_body(features, keys, times):
    def body(b):
        key_cols = []
        for name, values in keys.items():
            n = b.CreateString(name)
            v = strings_vector(b, values)
            KeyColumn.Start(b)
            KeyColumn.AddName(b, n)
            KeyColumn.AddValues(b, v)
            key_cols.append(KeyColumn.End(b))
        feature_vec = strings_vector(b, features)
        key_vec = offsets_vector(b, key_cols)
        time_vec = b.CreateNumpyVector(np.asarray(times, dtype=np.int64))
        TrainingBatch.Start(b)
        TrainingBatch.AddFeatures(b, feature_vec)
        TrainingBatch.AddKeys(b, key_vec)
        TrainingBatch.AddEventTimeMs(b, time_vec)
        return TrainingBatch.End(b)
    return body


# ---- helpers ----

def _progress(done, total, started):
    share = done / max(total, 1)
    rate = done / max(time.monotonic() - started, 1e-9)
    bar = "=" * int(share * 30)
    print(f"\r[{bar:<30}] {share:4.0%}  {done}/{total} rows  {rate:,.0f} rows/s", end="",
          file=sys.stderr)


def _as_list(features):
    return [features] if isinstance(features, str) else list(features)


def _entity_order(columns):
    """The rows in the order the server keeps their entity keys: shorter
    first, then by bytes (for several join keys, approximately: by total
    length, then value by value)."""
    lengths = [np.fromiter((len(v.encode()) for v in c), dtype=np.int64, count=len(c))
               for c in columns]
    sort_keys = [c.astype(str) for c in reversed(columns)] + [sum(lengths)]
    return np.lexsort(sort_keys)


def _view_of(feature):
    if ":" not in feature:
        raise QuiverError("InvalidArgument", f"feature '{feature}' must be written view:field")
    return feature.rsplit(":", 1)[0]


def _group_features(features):
    """{view: [(field, name as requested)]} in request order; a bare view
    name means every field ([])."""
    if isinstance(features, str) and ":" not in features:
        return {features: []}
    grouped = {}
    for f in _as_list(features):
        grouped.setdefault(_view_of(f), []).append((f.rsplit(":", 1)[1], f))
    return grouped


def _key_columns(keys):
    if isinstance(keys, dict):
        return {k: list(v) for k, v in keys.items()}
    return {"key": [k if not isinstance(k, tuple) else ",".join(map(str, k)) for k in keys]}


def _key_parts(join_keys, keys):
    """key_parts for a request: K strings per entity."""
    if isinstance(keys, dict):
        missing = [k for k in join_keys if k not in keys]
        if missing:
            raise QuiverError("InvalidArgument", f"no values for join key '{missing[0]}'")
        return [str(v) for row in zip(*(keys[k] for k in join_keys)) for v in row]
    parts = []
    for i, k in enumerate(keys):
        values = k if isinstance(k, (tuple, list)) else (k,)
        if len(values) != len(join_keys):
            raise QuiverError("InvalidArgument",
                              f"key {i}: expected {len(join_keys)} values "
                              f"({', '.join(join_keys)}), got {len(values)}")
        parts.extend(str(v) for v in values)
    return parts


def _camel(name):
    return "".join(part.capitalize() for part in name.split("_"))


def _from_table(table, fields):
    """A FlatBuffers table as a dict. fields: name -> None (a scalar or a
    string), a dict (a table), or a one-item list of either (a vector)."""
    if table is None:
        return None
    out = {}
    for name, kind in fields.items():
        get = getattr(table, _camel(name))
        if isinstance(kind, list):
            n = getattr(table, _camel(name) + "Length")()
            out[name] = [_from_table(get(i), kind[0]) for i in range(n)]
        elif kind is None:
            value = get()
            out[name] = value.decode() if isinstance(value, bytes) else value
        else:
            out[name] = _from_table(get(), kind)
    return out


_LATENCY = dict.fromkeys(["count", "p50_us", "p90_us", "p99_us", "p999_us", "max_us"])
_PARTITION = dict.fromkeys(["topic", "partition", "next_offset", "high_watermark", "lag",
                            "max_event_time_ms"])
_KAFKA = {**dict.fromkeys(["running", "brokers", "group", "messages", "events", "versions",
                           "too_late", "batches", "dead_lettered", "paused", "pauses"]),
          "malformed": [dict.fromkeys(["kind", "count"])],
          "event_to_visible": _LATENCY, "consume_to_visible": _LATENCY,
          "partitions": [_PARTITION], "windows_through_ms": None}
_COMPACTION = dict.fromkeys(["running", "started_ms", "finished", "last_seconds", "last_error"])
_CLUSTER = {**dict.fromkeys(["topic", "replica_id", "caught_up", "proposed", "applied",
                             "refused", "unapplicable"]),
            "partitions": [dict.fromkeys(["partition", "applied", "log_end", "lag", "waiting",
                                          "stopped"])]}
_STATUS = {**dict.fromkeys(["server_version", "durability", "server_time_ms", "rows",
                            "memory_bytes", "window_entities", "window_bytes", "max_memory"]),
           "memory": [dict.fromkeys(["part", "bytes"])],
           "kafka": _KAFKA, "compaction": _COMPACTION, "cluster": _CLUSTER}


def _view_dict(v):
    fields = []
    for i in range(v.FieldsLength()):
        f = v.Fields(i)
        default = f.DefaultValue()
        value = None
        if default is not None:
            _, values, _ = columns.decode(default, 1)
            value = values[0].tolist() if hasattr(values[0], "tolist") else values[0]
        fields.append({"name": f.Name().decode(), "type": columns.type_name(f.Type(), f.Dim()),
                       "type_code": f.Type(), "dim": f.Dim(), "default": value,
                       "description": (f.Description() or b"").decode()})
    return {
        "name": v.Name().decode(), "version": v.Version(), "entity": (v.Entity() or b"").decode(),
        "join_keys": _strings(v.JoinKeys(i) for i in range(v.JoinKeysLength())),
        "fields": fields, "ttl_ms": v.TtlMs(), "freshness_ms": v.FreshnessMs(),
        "retention_ms": v.RetentionMs(), "owner": (v.Owner() or b"").decode(),
        "description": (v.Description() or b"").decode(),
        "tags": _strings(v.Tags(i) for i in range(v.TagsLength())),
        "depends_on": _strings(v.DependsOn(i) for i in range(v.DependsOnLength())),
    }
