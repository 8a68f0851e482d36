"""The Lua that applications run in Redis, run unchanged against quiverd
and redis-server: a sliding-window rate limiter (registered once, called by
EVALSHA) and redis-py's own Lock, whose release, extend and reacquire are
Lua scripts of the library."""

import threading

import pytest
import redis
from redis.exceptions import LockError, LockNotOwnedError

# A sliding-window limiter as rate-limiting libraries write it: the window
# is a sorted set of request times; a request is allowed while fewer than
# `limit` fall within the last `window` milliseconds. The time comes from
# the caller, so both servers see the same sequence.
SLIDING_WINDOW = """
local key, now, window, limit, id = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]),
    tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
if used < limit then
  redis.call('ZADD', key, now, id)
  redis.call('PEXPIRE', key, window)
  return {1, limit - used - 1}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""


def limiter_trace(client):
    limit = client.register_script(SLIDING_WINDOW)
    trace = []
    for i, now in enumerate([0, 10, 20, 30, 40, 1005, 1011, 1500, 2100, 2101, 2102, 2103]):
        trace.append(limit(keys=["rl:user:7"], args=[now, 1000, 4, f"req{i}"]))
    trace.append(client.zrange("rl:user:7", 0, -1, withscores=True))
    trace.append(client.pttl("rl:user:7") > 0)
    return trace


def test_a_sliding_window_limiter_decides_as_on_redis(r, reference):
    reference.flushall()
    got, want = limiter_trace(r), limiter_trace(reference)
    assert got == want
    assert [allowed for allowed, _ in got[:12]] == [1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0]


def test_concurrent_callers_get_exactly_the_limit(server):
    """Each call is atomic: of 8 threads x 25 requests in one window, exactly
    `limit` are allowed, whichever thread runs first."""
    setup = server.client()
    setup.flushall()
    sha = setup.script_load(SLIDING_WINDOW)
    allowed = []
    lock = threading.Lock()

    def caller(t):
        c = server.client()
        mine = sum(c.evalsha(sha, 1, "rl:shared", 500, 10_000, 37, f"t{t}-{i}")[0]
                   for i in range(25))
        with lock:
            allowed.append(mine)
        c.close()

    threads = [threading.Thread(target=caller, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(allowed) == 8, "a caller did not finish"
    assert sum(allowed) == 37
    assert setup.zcard("rl:shared") == 37


def test_redis_py_lock_release_extend_and_reacquire(server, reference):
    for client in (server.client(), reference):
        client.flushall()
        other = redis.Redis(connection_pool=client.connection_pool)
        lock = client.lock("job:42", timeout=30)
        assert lock.acquire(blocking=False)
        assert not other.lock("job:42", timeout=30).acquire(blocking=False), "held elsewhere"
        # A client whose token is not the lock's cannot release it: the
        # library's release script compares the token before deleting.
        stranger = other.lock("job:42")
        stranger.local.token = b"not-the-owner"
        with pytest.raises(LockNotOwnedError):
            stranger.release()
        assert client.exists("job:42") == 1
        assert lock.extend(60)
        assert 60_000 < client.pttl("job:42") <= 90_000
        assert lock.reacquire()
        assert 0 < client.pttl("job:42") <= 30_000
        lock.release()
        assert client.exists("job:42") == 0
        with pytest.raises(LockError):
            lock.release()
        assert other.lock("job:42", timeout=30).acquire(blocking=False), "free again"
