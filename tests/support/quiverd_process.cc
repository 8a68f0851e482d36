#include "support/quiverd_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace quiver::testing {

std::string QuiverdPath() {
  return QUIVERD_PATH;
}
std::string QuiverCliPath() {
  return QUIVER_CLI_PATH;
}
std::string SourcePath(const std::string& relative) {
  return std::string(QUIVER_SOURCE_DIR) + "/" + relative;
}

std::string MakeTempDir() {
  char tmpl[] = "/tmp/quiver-test-XXXXXX";
  return mkdtemp(tmpl);
}

QuiverdProcess::QuiverdProcess(std::vector<std::string> extra_args, uint16_t port,
                               std::string data_dir)
    : dir_(MakeTempDir()), data_dir_(data_dir.empty() ? dir_ + "/data" : std::move(data_dir)) {
  const std::string port_file = dir_ + "/port";
  std::vector<std::string> args = {QuiverdPath(), "--port",      std::to_string(port),
                                   "--port-file", port_file,     "--data-dir",
                                   data_dir_,     "--log-level", "warn"};
  // Free RESP and HTTP ports too, unless the test chooses: 6379 may be
  // Redis's, and tests run side by side.
  for (const char* flag : {"--resp-port", "--http-port"}) {
    if (std::find(extra_args.begin(), extra_args.end(), flag) == extra_args.end()) {
      args.insert(args.end(), {flag, "0"});
    }
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  // Wait (bounded) for the server to announce its port; the port file is
  // written atomically once the socket listens.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    unsigned port = 0, resp_port = 0, http_port = 0;
    if (in >> port >> resp_port >> http_port && port != 0) {
      port_ = static_cast<uint16_t>(port);
      resp_port_ = static_cast<uint16_t>(resp_port);
      http_port_ = static_cast<uint16_t>(http_port);
      return;
    }
    if (!Alive()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool QuiverdProcess::Alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int QuiverdProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void QuiverdProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

QuiverdProcess::~QuiverdProcess() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0)
    result.out.append(buf.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace quiver::testing
