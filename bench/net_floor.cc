// quiver-net-floor: the floor of a server's network path on this machine.
// It answers every RESP MGET it receives with a fixed reply and does
// nothing else, over one of two event loops on one thread:
//   epoll: level-triggered epoll_wait, then recv and send per ready socket
//          (two system calls a request, as Boost.Asio's reactor makes);
//   uring: io_uring with multishot receives into a provided buffer ring
//          and every send of a loop turn submitted by the one
//          io_uring_enter that also waits for the next completions.
// Driven by quiver-bench (--target redis --workloads user), the CPU it uses
// per request is what no server can go below with that loop; set beside
// quiverd's and Redis's, it says how much of their cost is the kernel's.
// See bench/README.md#quiver-net-floor.
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>

namespace {

// The MGETs that begin in these bytes. Anything else closes the connection.
// (quiver-bench's INFO then reads end of file and goes without; give it
// --redis-pid.) The MGETs (quiver-bench sends each request in
// one write, so none straddles two reads at one request in flight).
size_t CountRequests(std::string_view bytes) {
  size_t n = 0;
  for (size_t at = bytes.find("MGET"); at != std::string_view::npos;
       at = bytes.find("MGET", at + 4))
    ++n;
  return n;
}

std::string Reply(size_t value_bytes) {
  std::string bulk = "$" + std::to_string(value_bytes) + "\r\n" + std::string(value_bytes, 'x');
  return "*4\r\n" + bulk + "\r\n" + bulk + "\r\n" + bulk + "\r\n" + bulk + "\r\n";
}

int Listen(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 1024) != 0) {
    std::perror("listen");
    return -1;
  }
  return fd;
}

void NoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int RunEpoll(int listener, const std::string& reply) {
  const int ep = epoll_create1(0);
  epoll_event ev{.events = EPOLLIN, .data = {.fd = listener}};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::vector<epoll_event> events(256);
  std::vector<char> in(64 * 1024);
  std::string out;
  for (;;) {
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        const int c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
        NoDelay(c);
        epoll_event cev{.events = EPOLLIN, .data = {.fd = c}};
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        continue;
      }
      const ssize_t got = recv(fd, in.data(), in.size(), 0);
      const size_t requests = got > 0 ? CountRequests({in.data(), static_cast<size_t>(got)}) : 0;
      if (requests == 0) {  // closed, or not an MGET (e.g. INFO): closes
        close(fd);
        continue;
      }
      out.clear();
      for (size_t k = requests; k > 0; --k)
        out += reply;
      send(fd, out.data(), out.size(), MSG_NOSIGNAL);  // small: the socket takes it whole
    }
  }
}

// io_uring: completions carry what they are in user_data's top byte.
enum Op : uint64_t { kAccept = 1, kRecv = 2, kSend = 3 };
uint64_t Tag(Op op, int fd) {
  return (static_cast<uint64_t>(op) << 56) | static_cast<uint32_t>(fd);
}

class UringLoop {
 public:
  static constexpr unsigned kBuffers = 4096, kBufferSize = 4096, kGroup = 1;
  static constexpr size_t kMaxPending = 16u << 20;

  UringLoop(int listener, std::string reply) : listener_(listener), reply_(std::move(reply)) {}

  int Run() {
    io_uring_params p{};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(8192, &ring_, &p) != 0) {
      p.flags = 0;
      if (io_uring_queue_init_params(8192, &ring_, &p) != 0) return Fail("io_uring_queue_init");
    }
    if (!ProvideBuffers()) return Fail("io_uring_register_buf_ring");
    Arm(kAccept, listener_);
    for (;;) {
      io_uring_submit_and_wait(&ring_, 1);
      io_uring_cqe* cqe;
      unsigned head, seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        Complete(cqe);
        ++seen;
      }
      io_uring_cq_advance(&ring_, seen);
    }
  }

 private:
  struct Conn {
    std::string pending;  // replies not yet handed to a send
    std::string sending;  // the send in flight
  };

  static int Fail(const char* what) {
    std::fprintf(stderr, "quiver-net-floor: %s failed\n", what);
    return 1;
  }

  bool ProvideBuffers() {
    const size_t ring_bytes = sizeof(io_uring_buf) * kBuffers;
    void* mem =
        mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return false;
    bufs_ = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(bufs_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(mem);
    reg.ring_entries = kBuffers;
    reg.bgid = kGroup;
    if (io_uring_register_buf_ring(&ring_, &reg, 0) != 0) return false;
    memory_.resize(size_t{kBuffers} * kBufferSize);
    for (unsigned i = 0; i < kBuffers; ++i)
      Recycle(i);
    return true;
  }

  void Recycle(unsigned id) {
    io_uring_buf_ring_add(bufs_, memory_.data() + size_t{id} * kBufferSize, kBufferSize, id,
                          io_uring_buf_ring_mask(kBuffers), 0);
    io_uring_buf_ring_advance(bufs_, 1);
  }

  io_uring_sqe* Sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void Arm(Op op, int fd) {
    io_uring_sqe* sqe = Sqe();
    if (op == kAccept) {
      io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, 0);
    } else {
      io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = kGroup;
    }
    io_uring_sqe_set_data64(sqe, Tag(op, fd));
  }

  void Send(int fd, Conn& c) {
    if (!c.sending.empty() || c.pending.empty()) return;
    c.sending.swap(c.pending);
    io_uring_sqe* sqe = Sqe();
    io_uring_prep_send(sqe, fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, Tag(kSend, fd));
  }

  void Complete(const io_uring_cqe* cqe) {
    const int fd = static_cast<int>(cqe->user_data & 0xffffffff);
    const bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
    switch (static_cast<Op>(cqe->user_data >> 56)) {
      case kAccept:
        if (cqe->res >= 0) {
          NoDelay(cqe->res);
          conns_[cqe->res];
          Arm(kRecv, cqe->res);
        }
        if (!more) Arm(kAccept, listener_);
        return;
      case kRecv:
        return Received(fd, cqe, more);
      case kSend:
        return Sent(fd, cqe->res);
    }
  }

  void Sent(int fd, int res) {
    const auto it = conns_.find(fd);
    if (it == conns_.end()) return;  // closed meanwhile
    Conn& c = it->second;
    if (res > 0 && static_cast<size_t>(res) < c.sending.size()) {
      c.sending.erase(0, static_cast<size_t>(res));  // the rest, before what is pending
      c.pending.insert(0, c.sending);
    }
    c.sending.clear();
    Send(fd, c);
  }

  void Received(int fd, const io_uring_cqe* cqe, bool more) {
    if (cqe->res <= 0) {
      if (cqe->res == -ENOBUFS) return Arm(kRecv, fd);  // out of buffers: ask again
      conns_.erase(fd);
      close(fd);
      return;
    }
    const unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    const std::string_view bytes(memory_.data() + size_t{id} * kBufferSize,
                                 static_cast<size_t>(cqe->res));
    const size_t requests = CountRequests(bytes);
    Recycle(id);
    Conn& c = conns_[fd];
    // Not an MGET (e.g. INFO), or a client that sends without reading:
    // closes (its replies wait in memory, kMaxPending at most).
    if (requests == 0 || c.pending.size() > kMaxPending) {
      shutdown(fd, SHUT_RDWR);
      return;
    }
    for (size_t k = requests; k > 0; --k)
      c.pending += reply_;
    Send(fd, c);
    if (!more) Arm(kRecv, fd);
  }

  int listener_;
  std::string reply_;
  io_uring ring_{};
  io_uring_buf_ring* bufs_ = nullptr;
  std::vector<char> memory_;
  std::unordered_map<int, Conn> conns_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "epoll";
  uint16_t port = 6399;
  size_t value_bytes = 80;
  CLI::App app("quiver-net-floor: a fixed RESP reply to every MGET, over epoll or io_uring");
  app.add_option("--mode", mode, "epoll or uring (default epoll)")
      ->check(CLI::IsMember({"epoll", "uring"}));
  app.add_option("--port", port, "Loopback port (default 6399)");
  app.add_option("--value-bytes", value_bytes,
                 "Bytes of each of the reply's 4 values (default 80)");
  CLI11_PARSE(app, argc, argv);
  const int listener = Listen(port);
  if (listener < 0) return 1;
  if (mode == "epoll") return RunEpoll(listener, Reply(value_bytes));
  return UringLoop(listener, Reply(value_bytes)).Run();
}
