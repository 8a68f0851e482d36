// HeldAnswers: a connection's answers held back until the commits of the
// writes they follow are done, then released in request order. Commits
// complete in submission order, so each completion is the oldest answer
// still awaiting one. One connection's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

namespace quiver {

class HeldAnswers {
 public:
  struct Answer {
    std::string bytes;
    uint64_t id = 0;             // the request's id, where the protocol has one
    bool awaits_commit = false;  // its own writes are not committed yet
  };

  bool empty() const { return held_.empty(); }
  // Bytes of the answers held.
  size_t bytes() const { return bytes_; }
  // Held answers whose commit has not completed.
  size_t awaiting() const { return awaiting_; }

  void Hold(std::string bytes, uint64_t id, bool awaits_commit) {
    bytes_ += bytes.size();
    held_.push_back(Answer{std::move(bytes), id, awaits_commit});
    awaiting_ += awaits_commit ? 1 : 0;
  }

  // A commit completed: marks the oldest answer awaiting one and returns it
  // (nullptr if none awaits).
  Answer* Committed() {
    for (Answer& a : held_) {
      if (!a.awaits_commit) continue;
      a.awaits_commit = false;
      --awaiting_;
      return &a;
    }
    return nullptr;
  }

  // Replaces a held answer (e.g. with the error its commit ended in).
  void Replace(Answer* answer, std::string_view bytes) {
    bytes_ = bytes_ - answer->bytes.size() + bytes.size();
    answer->bytes.assign(bytes);
  }

  // Moves the answers at the front that await nothing to the end of *out.
  void Release(std::string* out) {
    while (!held_.empty() && !held_.front().awaits_commit) {
      out->append(held_.front().bytes);
      bytes_ -= held_.front().bytes.size();
      held_.pop_front();
    }
  }

  void Clear() {
    held_.clear();
    awaiting_ = 0;
    bytes_ = 0;
  }

 private:
  std::deque<Answer> held_;  // in request order
  size_t awaiting_ = 0;
  size_t bytes_ = 0;
};

}  // namespace quiver
