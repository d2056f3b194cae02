#include "runner/loupe_cmd.h"

#include "util/strings.h"

#include <fmt/format.h>

#include <iostream>
#include <sstream>

namespace runner {

namespace {

bool is_explorer(const std::string& word) {
  return word.ends_with("explore.py") || word.ends_with("lupa-explore");
}

bool is_python(const std::string& word) {
  std::string name = word.substr(word.rfind('/') + 1);
  return name == "python" || name == "python3";
}

} // namespace

util::Result<std::vector<std::string>> shell_words(const std::string& script) {
  // Written by hand: Boost's split_unix treats ' and " alike and drops empty words, and
  // wordexp(3) would expand globs and variables on the host. POSIX quoting only: '...' is
  // literal, "..." keeps \ before " \ $ ` and newline, a bare \ escapes the next character.
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < script.size(); ++i) {
    char c = script[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 < script.size()) {
        if (script[i + 1] != '\n') {
          word += script[i + 1];
        }
        ++i;
      }
    } else if (c == '\'') {
      size_t end = script.find('\'', i + 1);
      if (end == std::string::npos) {
        return util::error("unbalanced single quote in the command");
      }
      word += script.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < script.size() && script[j] != '"'; ++j) {
        if (script[j] == '\\' && j + 1 < script.size() &&
            std::string_view("\"\\$`\n").find(script[j + 1]) != std::string_view::npos) {
          ++j;
        }
        word += script[j];
      }
      if (j >= script.size()) {
        return util::error("unbalanced double quote in the command");
      }
      i = j;
    } else {
      word += c;
    }
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  return words;
}

util::Result<LoupeCommand> parse_loupe_cmd(const std::vector<std::string>& cmd,
                                           const std::string& dockerfile) {
  std::vector<std::string> words = cmd;
  if (cmd.size() == 3 && (cmd[0] == "/bin/sh" || cmd[0] == "/bin/bash" || cmd[0] == "sh") &&
      cmd[1] == "-c") {
    TRY_ASSIGN(words, shell_words(cmd[2]));
  }
  if (words.empty()) {
    return util::error(fmt::format(
        "{}: CMD: missing; a Loupe-style Dockerfile ends with CMD /root/explore.py ... -b BINARY "
        "-- ARGS (or give a lupa recipe)",
        dockerfile));
  }
  // Segments separated by "&&": `cd DIR` ones, then the explorer's.
  LoupeCommand out;
  size_t i = 0;
  while (i < words.size() && !is_explorer(words[i]) &&
         !(is_python(words[i]) && i + 1 < words.size() && is_explorer(words[i + 1]))) {
    if (words[i] == "cd" && i + 2 < words.size() && words[i + 2] == "&&") {
      std::string dir = words[i + 1];
      if (!dir.starts_with("/")) {
        dir = (out.workdir.value_or("/") + "/" + dir);
      }
      out.workdir = dir;
      i += 3;
      continue;
    }
    return util::error(fmt::format(
        "{}: CMD: '{}' is not understood; lupa accepts `cd DIR && ` then /root/explore.py with "
        "its flags",
        dockerfile, util::join(words, " ")));
  }
  if (i == words.size()) {
    return util::error(fmt::format("{}: CMD: no explore.py call in '{}'", dockerfile,
                                   util::join(words, " ")));
  }
  if (is_python(words[i])) {
    ++i;
  }
  out.argv.assign(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
  for (const std::string& w : out.argv) {
    if (w == "&&" || w == ";" || w == "|") {
      return util::error(fmt::format("{}: CMD: nothing may follow the explore.py call ('{}')",
                                     dockerfile, w));
    }
  }
  std::vector<const char*> argv{"explore.py"};
  for (const std::string& w : out.argv) {
    argv.push_back(w.c_str());
  }
  // CLI11 prints its own usage error; capture it for the one-line message.
  std::ostringstream captured;
  std::streambuf* old_err = std::cerr.rdbuf(captured.rdbuf());
  std::streambuf* old_out = std::cout.rdbuf(captured.rdbuf());
  std::optional<int> ended =
      explorer::parse_command_line(static_cast<int>(argv.size()), argv.data(), out.options);
  std::cerr.rdbuf(old_err);
  std::cout.rdbuf(old_out);
  if (ended) {
    std::string why = util::join(util::split(std::string(util::trim(captured.str())), '\n'), " ");
    return util::error(fmt::format("{}: CMD: the explore.py flags are not valid: {}", dockerfile,
                                   why.substr(0, 300)));
  }
  return out;
}

} // namespace runner
