// QuiverdProcess: a real quiverd started for a test, listening on a free
// loopback port, with its data in a fresh temporary directory. Stopped
// (SIGTERM, then waited for) when the object goes away.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace quiver::testing {

class QuiverdProcess {
 public:
  // Starts quiverd with `extra_args` on `port` (0: any free one); check
  // ok() and port(). With data_dir empty, the data lives in a fresh
  // temporary directory removed afterwards; otherwise in data_dir, kept
  // (to restart a server on the data of an earlier one).
  explicit QuiverdProcess(std::vector<std::string> extra_args = {}, uint16_t port = 0,
                          std::string data_dir = "");
  ~QuiverdProcess();
  QuiverdProcess(const QuiverdProcess&) = delete;
  QuiverdProcess& operator=(const QuiverdProcess&) = delete;

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  // The RESP port (0 if the server has none).
  uint16_t resp_port() const { return resp_port_; }
  // The HTTP port (0 if the server has none).
  uint16_t http_port() const { return http_port_; }
  const std::string& data_dir() const { return data_dir_; }
  // Sends SIGTERM and waits; returns the exit status as waitpid reports it.
  int Stop();
  // Sends SIGKILL (a crash: nothing is flushed) and waits.
  void Kill();
  // True if the process is still running.
  bool Alive();

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t resp_port_ = 0;
  uint16_t http_port_ = 0;
  std::string dir_;  // temporary: the port file, and the data unless data_dir was given
  std::string data_dir_;
};

// A fresh temporary directory (for data that outlives one QuiverdProcess).
std::string MakeTempDir();

// Runs a command line with /bin/sh, returning its exit code and stdout.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};
CommandResult RunCommand(const std::string& command);

// Paths of the built binaries and the source tree (set by CMake).
std::string QuiverdPath();
std::string QuiverCliPath();
std::string SourcePath(const std::string& relative);

}  // namespace quiver::testing
