#include "support/kafka_mock.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "support/quiverd_process.h"

namespace quiver::testing {

namespace {

std::string ReadLine(FILE* f) {
  std::string line;
  for (int c = fgetc(f); c != EOF && c != '\n'; c = fgetc(f))
    line.push_back(static_cast<char>(c));
  return line;
}

}  // namespace

std::string KafkaMockPath() {
  return QUIVER_KAFKA_MOCK_PATH;
}

KafkaMock::KafkaMock(int brokers, const std::vector<std::pair<std::string, int>>& topics) {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) return;
  std::vector<std::string> args = {KafkaMockPath(), "--brokers", std::to_string(brokers)};
  for (const auto& [name, partitions] : topics) {
    args.push_back("--topic");
    args.push_back(name + ":" + std::to_string(partitions));
  }
  pid_ = fork();
  if (pid_ == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[1]);
    close(from_child[0]);
    std::vector<char*> argv;
    for (std::string& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  in_ = fdopen(to_child[1], "w");
  out_ = fdopen(from_child[0], "r");
  bootstrap_ = ReadLine(out_);
}

KafkaMock::~KafkaMock() {
  if (in_ != nullptr) fclose(in_);
  if (out_ != nullptr) fclose(out_);
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

bool KafkaMock::Command(const std::string& line) {
  if (in_ == nullptr) return false;
  fprintf(in_, "%s\n", line.c_str());
  fflush(in_);
  return ReadLine(out_) == "ok";
}

bool KafkaMock::Produce(const std::string& topic,
                        const std::vector<std::pair<std::string, std::string>>& messages) {
  const std::string dir = MakeTempDir();
  const std::string file = dir + "/messages";
  {
    std::ofstream out(file);
    for (const auto& [key, value] : messages)
      out << key << '|' << value << '\n';
  }
  const CommandResult r = RunCommand("kcat -q -P -b " + bootstrap_ + " -t " + topic +
                                     " -K '|' -X partitioner=murmur2_random -l " + file);
  RunCommand("rm -rf " + dir);
  return r.exit_code == 0;
}

}  // namespace quiver::testing
