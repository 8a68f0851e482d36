"""Feature rows in a cluster: native Puts and Deletes through any member
go through the changelog, partition by entity, and every member ends with
the same online rows and the same history, with "applied" and "stale" as
every member computed them."""

import threading

import pytest
import redis

import quiver
from replicas import cli, converge, health, http_get, metric_samples, rows_of
from conftest import USERS, wait_for


def snapshot(member):
    """Every user's online row and full history, as the CLI prints them."""
    rows = rows_of(cli(member, "get", "profile", "--json", *USERS))
    history = [rows_of(cli(member, "history", "profile", u, "--json")) for u in USERS]
    pairs = rows_of(cli(member, "get", "affinity", "--json", *[f"{u},i1" for u in USERS]))
    return rows, history, pairs


def writer(member, worker, results):
    with quiver.Client("127.0.0.1", member.port) as q:
        out = []
        for n in range(20):
            # Conflicting writes: every worker writes every user, with
            # event times that interleave, some rows partial.
            t = 1_700_000_000_000 + n * 1000 + worker * 7
            rows = [{"user_id": u, "visits": n, "name": f"w{worker}"} for u in USERS]
            out.append(q.put("profile", rows, event_time=t))
            out.append(q.put("profile", [{"user_id": u, "score": worker + n / 100} for u in USERS],
                             event_time=t - 500))
            q.put("affinity", [{"user_id": u, "item_id": "i1", "weight": n} for u in USERS],
                  event_time=t)
            if n == 10 and worker == 0:
                q.delete("profile", USERS[:3])
        results[worker] = out


def test_puts_through_every_member_give_equal_rows_and_histories(feature_cluster):
    members = feature_cluster.members
    results = {}
    threads = [threading.Thread(target=writer, args=(m, i, results)) for i, m in enumerate(members)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    for out in results.values():
        for r in out:
            assert r["applied"] + r["stale"] == len(USERS)
    converge(members)
    first = snapshot(members[0])
    assert {r["features"]["visits"] for r in first[0] if r["state"] == "found"} == {19}
    assert sum(len(h) for h in first[1]) > len(USERS) * 20  # every version, stale ones too
    for m in members[1:]:
        assert snapshot(m) == first


def test_definitions_applied_through_one_member_reach_every_member(cluster, defs_file):
    first, second, third = cluster.members
    with quiver.Client("127.0.0.1", first.port) as q:
        report = q.apply(defs_file)
    assert "view profile@v1" in report["created"]
    # The writer answered once it had applied them itself; another member
    # checks a write against the views it has applied so far.
    converge(cluster.members)
    with quiver.Client("127.0.0.1", third.port) as q:
        assert q.put("profile", [{"user_id": "u1", "visits": 5}])["applied"] == 1
    converge(cluster.members)
    for m in cluster.members:
        with quiver.Client("127.0.0.1", m.port) as q:
            assert {v["name"] for v in q.views()} == {"profile", "affinity"}
        assert rows_of(cli(m, "get", "profile", "--json", "u1"))[0]["features"]["visits"] == 5
    with quiver.Client("127.0.0.1", second.port) as q:  # applied again: nothing changes
        assert q.apply(defs_file)["created"] == []


def waiting(member):
    info = member.client().info("replication")
    return any("waiting" in str(v) for k, v in info.items() if k.startswith("cluster_partition"))


def test_a_write_to_a_view_a_member_lacks_waits_until_it_is_defined(cluster, defs_file):
    # Definitions from a start-up file are applied by that member alone: a
    # write through it to those views waits on the other members (and
    # INFO says why) instead of being skipped or failing there.
    lone = cluster.add("lone", extra=("--features", defs_file))
    with quiver.Client("127.0.0.1", lone.port) as q:
        assert q.put("profile", [{"user_id": "u1", "visits": 7}])["applied"] == 1
    wait_for(lambda: waiting(cluster.members[0]), "a member without the view did not wait")
    assert cluster.members[0].client().ping()  # serving meanwhile
    assert metric_samples(cluster.members[0], "quiver_cluster_waiting")
    assert max(metric_samples(cluster.members[0], "quiver_cluster_waiting").values()) == 1
    # A member started now cannot catch up past the waiting record: it says
    # so on /health.
    late = cluster.add("late", caught_up=False)
    wait_for(lambda: waiting(late), "the late member did not wait")
    status, body = health(late)
    assert status == 503 and body["status"] == "catching_up"
    assert body["cluster"]["caught_up"] is False and body["cluster"]["replica_id"] == "late"
    # Until it has caught up it refuses reads on every port (LOADING), and
    # clients given other members move to one that serves them.
    with pytest.raises(redis.exceptions.BusyLoadingError, match="catching up"):
        late.client().get("anything")
    status, text = http_get(late, "/v1/features/profile/u1")
    assert status == 503 and "LOADING" in text
    with quiver.Client("127.0.0.1", late.port) as q, pytest.raises(quiver.QuiverError,
                                                                  match="LOADING"):
        q.views()
    with quiver.Client(servers=[f"127.0.0.1:{late.port}", f"127.0.0.1:{lone.port}"]) as q:
        assert q.get_online_features("profile:visits", ["u1"])["profile:visits"].tolist() == [7]
        assert q.server == f"127.0.0.1:{lone.port}"
    # Redis Sentinel clients are sent elsewhere too.
    assert late.client().execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                                         cluster.topic) is None
    # --serve-stale serves what it has applied meanwhile; it is still not ready.
    stale = cluster.add("stale", extra=("--serve-stale", "true"), caught_up=False)
    wait_for(lambda: waiting(stale), "the stale member did not wait")
    assert stale.client().get("anything") is None and health(stale)[0] == 503
    with quiver.Client("127.0.0.1", cluster.members[1].port) as q:
        q.apply(defs_file)  # through the changelog: every member has the views now
    converge(cluster.members)
    for m in cluster.members:
        assert rows_of(cli(m, "get", "profile", "--json", "u1"))[0]["features"]["visits"] == 7
        assert not waiting(m)
    wait_for(lambda: health(late)[0] == 200, "the late member did not catch up")
    assert health(late)[1]["cluster"]["caught_up"] is True
