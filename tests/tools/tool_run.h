// Runs a built command-line tool for the tools tests: its exit code and everything it printed
// (stdout and stderr together, through a temporary log file named after `tag` and the pid).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace reflex::testing {

struct ToolRun {
  int code;         // exit code, -1 when the tool did not exit normally
  std::string out;  // stdout and stderr
};

inline ToolRun RunTool(const std::string& binary, const std::string& args, const std::string& tag) {
  namespace fs = std::filesystem;
  const fs::path log = fs::temp_directory_path() / (tag + "_" + std::to_string(::getpid()) + ".log");
  const int status = std::system((binary + " " + args + " > " + log.string() + " 2>&1").c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  fs::remove(log);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

}  // namespace reflex::testing
