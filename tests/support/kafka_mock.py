"""librdkafka's mock Kafka cluster for the Python suites: a
quiver_kafka_mock process (tests/kafka/kafka_mock_main.cc), the binary
named by $QUIVER_KAFKA_MOCK. Its brokers listen on loopback; it exits when
its stdin closes."""

import os
import subprocess


class KafkaMock:
    def __init__(self, brokers=3, topics=()):
        """topics: (name, partitions) pairs created at start, replicated
        on up to 3 brokers."""
        binary = os.environ.get("QUIVER_KAFKA_MOCK", "build/release/tests/quiver_kafka_mock")
        args = [binary, "--brokers", str(brokers)]
        for name, partitions in topics:
            args += ["--topic", f"{name}:{partitions}"]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.bootstrap = self.proc.stdout.readline().strip()
        assert self.bootstrap, "the mock Kafka cluster did not start"

    def _command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer == "ok", f"mock kafka: {line}: {answer}"

    def create_topic(self, name, partitions):
        self._command(f"topic {name} {partitions}")

    def broker_down(self, broker_id):
        self._command(f"down {broker_id}")

    def broker_up(self, broker_id):
        self._command(f"up {broker_id}")

    def set_leader(self, topic, partition, broker_id):
        """Moves a partition's leadership, as Kafka's controller does when
        the leader's broker dies (the mock does not do it by itself)."""
        self._command(f"leader {topic} {partition} {broker_id}")

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(30)
