"""Keyspace notifications (notify-keyspace-events): for every write command
quiverd sends the events redis-server 7 sends, on the same channels, in the
same order, for each class of events; CONFIG SET and GET take and show the
classes as Redis does; expired keys are notified."""

import pytest
import redis

from conftest import Quiverd, key_events

# Each command runs on both servers; what each publishes meanwhile is
# compared. Redis's events for several commands are irregular (INCR and
# DECR send "incrby", LMOVE the push before the pop, RENAME and COPY
# REPLACE "new" for an existing destination): the list covers them.
COMMANDS = """
set s 1|set s 2 nx|set s 3 xx|set s 4 get|set s 5 ex 100|set s 6 keepttl|setnx s 9|setnx s2 9
setex s3 10 v|psetex s4 1000 v|getset s 10|getset s5 10|mset a 1 b 2|msetnx c 1 d 2
msetnx c 1 e 2|setrange s 1 xx|setrange nos 0 zz|append s zz|append s6 zz|incr n|decr n
incrby n 5|decrby n 5|incrbyfloat n 1.5|incr s|getdel s|getdel s|set s 1|getex s ex 100
getex s persist|getex s|getex s exat 1|set t 1|expire t 100|expire t 100 nx|expire t 100 xx
pexpire t 100000|expireat t 9999999999|pexpireat t 9999999999000|persist t|persist t|expire t 0
set t 1|expire t -1|set t 1|rename t u|renamenx u v|rename v v|set w 1|renamenx v w|rename w v
copy v w2|copy v w2|copy v w2 replace|copy v w3 db 1|del v w3 nosuch|unlink w2
rpush l a b c|lpush l x y|rpushx l z|lpushx nol z|lpushx l q|linsert l before a b2
linsert l before nosuch b2|lset l 0 Q|lpop l|rpop l 2|lpop l 0|ltrim l 0 2|ltrim l 0 -1
lrem l 0 b|lrem l 0 nosuch|lmove l l2 left right|rpoplpush l2 l3|lmove l l left right
lmpop 1 l left count 10|lpop l3|rpush bl a|blpop bl 0|rpush bl a b|brpop bl 0|rpush bl a
blmove bl bl2 left left 0|brpoplpush bl2 bl3 0|blmpop 0 1 bl3 right|ltrim x 0 1|rpush lt a b
ltrim lt 5 10|sadd st a b c|sadd st a|srem st a|srem st nosuch|smove st st2 b|smove st st2 x
spop st|spop st2 5|spop st2 0|sadd s1 a b|sadd s12 b c|sinterstore si s1 s12
sunionstore su s1 s12|sdiffstore sd s1 s1|sdiffstore su s1 s1|sinterstore nokey s1 nosuch
hset h f 1 g 2|hset h f 1|hsetnx h f 1|hsetnx h z 1|hmset h a 1|hincrby h n 1
hincrbyfloat h n 1.5|hdel h nosuch|hdel h f g z a n|hget h f|zadd z 1 a 2 b 3 c|zadd z 1 a
zadd z incr 1 a|zadd z incr 0 a|zadd z xx 5 nosuch|zadd z ch 7 a|zincrby z 1 b|zrem z nosuch
zrem z a|zremrangebyscore z 0 1|zremrangebyrank z 0 0|zadd z 1 a 2 b 3 c|zremrangebylex z - +
zadd z 1 a 2 b 3 c|zremrangebyscore z 100 200|zpopmin z|zpopmax z 5|zpopmin z 0|zadd z 1 a 2 b
zmpop 1 z min|bzpopmin z 0|zadd z 1 a 2 b|bzpopmax z 0|bzmpop 0 1 z max count 9
zadd z1 1 a 2 b|zadd z2 1 b 2 c|zunionstore zu 2 z1 z2|zinterstore zi 2 z1 z2
zdiffstore zd 2 z1 z1|zdiffstore zu 2 z1 z1|zrangestore zr z1 0 -1|zrangestore zr z1 5 6
setbit bm 7 1|setbit bm 7 1|setbit bm2 3 1|setbit bm9 5 0|setbit bm9 100 0|setbit bm9 6 0|bitfield bm set u8 0 5 get u4 0|bitfield bm get u8 0
bitfield bm overflow fail incrby u2 0 9|bitop and bm3 bm bm2|bitop and bm3 nosuch|bitop not bm4 bm
bitcount nosuch|bitpos nosuch 1|getbit nosuch 3|bitfield_ro nosuch get u8 0|bitfield bm5 get u8 0
bitfield bm6 overflow fail incrby u2 0 9|bitfield bm7 set u8 0 0
pfadd hl a b|pfadd hl a|pfadd hl|pfcount hl|pfmerge hl2 hl nosuch|pfcount nosuch|pfadd hl3
get nosuchkey|mget a nosuch|lrange nosuch 0 1|smembers nosuch|zrange nosuch 0 1|hgetall nosuch
exists nosuch|type nosuch|ttl nosuch|pttl nosuch|strlen nosuch|getrange nosuch 0 1|llen nosuch
lindex nosuch 0|scard nosuch|sismember nosuch a|zcard nosuch|zscore nosuch a|hlen nosuch|hexists nosuch f
lpos nosuch a|zrank nosuch a|srandmember nosuch|zcount nosuch 0 1|expiretime nosuch
flushdb|set a 1|flushall
"""


def commands():
    return [c.split() for line in COMMANDS.strip().splitlines() for c in line.split("|")]


def events(client, flags):
    """The (channel, message) pairs each command of COMMANDS publishes, with
    notify-keyspace-events set to flags."""
    client.flushall()
    client.config_set("notify-keyspace-events", flags)
    listener = client.pubsub()
    listener.psubscribe("__key*__:*")
    listener.subscribe("marker")
    # Both subscriptions in place before the first command: the listener's
    # connection may be served by another thread than the client's.
    assert sorted(listener.get_message(timeout=10)["type"] for _ in range(2)) == \
        ["psubscribe", "subscribe"]
    out = []
    try:
        for command in commands():
            try:
                client.execute_command(*command)
            except redis.ResponseError:
                pass
            client.publish("marker", "")
            seen = []
            while True:
                m = listener.get_message(timeout=10)
                assert m is not None, f"no marker after {command}"
                if m["type"] == "message":
                    break
                if m["type"] == "pmessage":
                    seen.append((m["channel"], m["data"]))
            out.append((" ".join(command), seen))
    finally:
        listener.close()
        client.config_set("notify-keyspace-events", "")
    return out


@pytest.mark.parametrize("flags", ["KEAnm", "KEA", "Kl", "E$", "Kgx", "Esz", "Kh", "En", "Em", "Al"])
def test_every_write_command_notifies_as_redis_does(server, reference, flags):
    ours = events(server.client(decode_responses=True), flags)
    theirs = events(redis.Redis(port=reference.connection_pool.connection_kwargs["port"],
                                decode_responses=True), flags)
    for mine, redis_ in zip(ours, theirs):
        assert mine == redis_
    if flags == "KEAnm":  # the list does exercise the events
        assert sum(len(seen) for _, seen in ours) > 300


@pytest.mark.parametrize("text", ["KEAnm", "Elg", "x", "", "Kz", "AK", "g$lshzxetd", "g$lshzxetdK",
                                  "KEA$", "mn", "n", "KE", "AAAK", "tdm"])
def test_config_takes_and_shows_the_classes_as_redis_does(server, reference, text):
    r = server.client()
    try:
        for client in (r, reference):
            client.config_set("notify-keyspace-events", text)
        assert r.config_get("notify-keyspace-events") == \
            reference.config_get("notify-keyspace-events")
    finally:
        for client in (r, reference):
            client.config_set("notify-keyspace-events", "")


def test_an_unknown_class_is_refused_as_redis_refuses_it(server, reference):
    r = server.client()
    for client in (r, reference):
        client.config_set("notify-keyspace-events", "KA")
        with pytest.raises(redis.ResponseError) as e:
            client.config_set("notify-keyspace-events", "Kq")
        assert "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." in str(e.value)
        # Unchanged.
        value = client.config_get("notify-keyspace-events")["notify-keyspace-events"]
        assert value in ("AK", b"AK")
        client.config_set("notify-keyspace-events", "")


def test_keys_that_expire_are_notified_in_their_database(server):
    r = server.client(decode_responses=True, db=3)
    r.flushall()
    r.config_set("notify-keyspace-events", "Ex")
    listener = r.pubsub()
    listener.subscribe("__keyevent@3__:expired")
    assert listener.get_message(timeout=10)["type"] == "subscribe"
    try:
        r.set("session:1", "x", px=20)
        r.set("session:2", "y")  # never expires: never notified
        m = listener.get_message(timeout=20)  # the sweep removes it within a second
        assert m is not None and m["data"] == "session:1"
        assert r.exists("session:1") == 0 and r.exists("session:2") == 1
    finally:
        listener.close()
        r.config_set("notify-keyspace-events", "")


def test_a_write_meeting_an_expired_key_notifies_expired_then_new():
    # A sweep every minute: the write meets the key before the sweep does.
    s = Quiverd("--sweep-interval-ms", "60000")
    try:
        r = s.client(decode_responses=True)
        listener = key_events(r)
        r.set("k", "old", px=1)
        assert [listener.get_message(timeout=10)["channel"] for _ in range(2)] == \
            ["__keyevent@0__:set", "__keyevent@0__:expire"]
        while r.pttl("k") != -2:  # expired to reads: a read never removes it
            pass
        r.config_set("notify-keyspace-events", "KEAn")
        r.set("k", "new")
        got = [listener.get_message(timeout=10) for _ in range(3)]
        assert [(m["channel"], m["data"]) for m in got] == [
            ("__keyevent@0__:expired", "k"), ("__keyevent@0__:new", "k"),
            ("__keyevent@0__:set", "k")]
        listener.close()
    finally:
        s.stop()
